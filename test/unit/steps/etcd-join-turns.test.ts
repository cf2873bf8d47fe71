import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { inTurn } from '../../../src/engine/turns.js';

describe('etcd-join turns: the plan order, whatever order hosts start in', () => {
  it('runs turns in the given order, one at a time', async () => {
    const shared = new Map<string, unknown>();
    const order = ['e5', 'e4'];
    const seen: string[] = [];
    let running = 0;
    const turn = (who: string, ms: number) =>
      inTurn(shared, 'join', order, who, async () => {
        running++;
        expect(running).toBe(1);
        await sleep(ms);
        seen.push(who);
        running--;
      });
    // e4 asks first (inventory order) but e5 is first in the plan.
    await Promise.all([turn('e4', 1), turn('e5', 20)]);
    expect(seen).toEqual(['e5', 'e4']);
  });

  it('a failed turn stops the queue: the later hosts do not run', async () => {
    const shared = new Map<string, unknown>();
    const order = ['a', 'b', 'c'];
    const ran: string[] = [];
    const results = await Promise.allSettled(
      order.map((who) =>
        inTurn(shared, 'join', order, who, async () => {
          ran.push(who);
          if (who === 'a') throw new Error('a broke');
        }),
      ),
    );
    expect(ran).toEqual(['a']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[2] as PromiseRejectedResult).reason.message)).toMatch(/a failed first/);
  });

  it('refuses a host that has no turn', () => {
    expect(() => inTurn(new Map(), 'join', ['a'], 'z', async () => undefined)).toThrow(/no turn/);
  });
});
