/** Run-wide helpers for steps whose hosts must share work or take turns. */
import { OperationError } from '../errors.js';

/** Runs fn once per run for key; every host awaits the same promise. */
export function once<T>(shared: Map<string, unknown>, key: string, fn: () => Promise<T>): Promise<T> {
  let promise = shared.get(key) as Promise<T> | undefined;
  if (!promise) {
    promise = fn();
    shared.set(key, promise);
  }
  return promise;
}

/** The queue of one key: where the last turn ends, and who failed first (which stops the queue). */
interface TurnQueue {
  tail: Promise<void>;
  failed?: string;
}

/**
 * Runs fn after every earlier fn with the same key has finished: one host at a time. `who`
 * names the turn's host. A failed turn stops the queue: later turns do not run fn and fail
 * with "not restarted: <host> failed first" (a bad config that broke one member must not
 * reach the next one).
 */
export function oneAtATime<T>(
  shared: Map<string, unknown>,
  key: string,
  who: string,
  fn: () => Promise<T>,
): Promise<T> {
  const slot = `turn:${key}`;
  let queue = shared.get(slot) as TurnQueue | undefined;
  if (!queue) {
    queue = { tail: Promise.resolve() };
    shared.set(slot, queue);
  }
  const turns = queue;
  const mine = turns.tail.then(async () => {
    if (turns.failed !== undefined)
      throw new OperationError(
        `${who}: not restarted: ${turns.failed} failed first`,
        `fix ${turns.failed} and re-run; the hosts after it were left as they were`,
      );
    try {
      return await fn();
    } catch (error) {
      turns.failed = who;
      throw error;
    }
  });
  turns.tail = mine.then(
    () => undefined,
    () => undefined,
  );
  return mine;
}
