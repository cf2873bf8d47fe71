import { oneAtATime } from './shared.js';

interface Gate {
  passed: Promise<void>;
  open: () => void;
}

/**
 * Turns in a fixed order (the plan's, not the order hosts happen to start in): `who` runs `fn`
 * once every host before it in `order` has had its turn, with oneAtATime's discipline (a failed
 * turn stops the queue: the later ones fail without running). Every host in `order` must call it
 * in the same step, and the step must run its hosts at once (allHostsAtOnce), or a later host
 * could hold the only slot while waiting for an earlier one.
 */
export function inTurn<T>(
  shared: Map<string, unknown>,
  key: string,
  order: readonly string[],
  who: string,
  fn: () => Promise<T>,
): Promise<T> {
  const index = order.indexOf(who);
  if (index < 0) throw new Error(`${who} has no turn in '${key}' (order: ${order.join(', ')})`);
  const slot = `ordered:${key}`;
  let gates = shared.get(slot) as Map<string, Gate> | undefined;
  if (!gates) {
    gates = new Map(
      order.map((host) => {
        let open!: () => void;
        const passed = new Promise<void>((resolve) => {
          open = resolve;
        });
        return [host, { passed, open }];
      }),
    );
    shared.set(slot, gates);
  }
  const mine = gates.get(who)!;
  const before = index === 0 ? Promise.resolve() : gates.get(order[index - 1]!)!.passed;
  return before.then(() => oneAtATime(shared, key, who, fn)).finally(() => mine.open());
}
