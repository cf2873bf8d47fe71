/** Run-wide helpers for steps whose hosts must share work or take turns. */

/** Runs fn once per run for key; every host awaits the same promise. */
export function once<T>(shared: Map<string, unknown>, key: string, fn: () => Promise<T>): Promise<T> {
  let promise = shared.get(key) as Promise<T> | undefined;
  if (!promise) {
    promise = fn();
    shared.set(key, promise);
  }
  return promise;
}

/** Runs fn after every earlier fn with the same key has finished: one host at a time. */
export function oneAtATime<T>(shared: Map<string, unknown>, key: string, fn: () => Promise<T>): Promise<T> {
  const slot = `turn:${key}`;
  const previous = (shared.get(slot) as Promise<unknown> | undefined) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(fn);
  shared.set(
    slot,
    mine.catch(() => undefined),
  );
  return mine;
}
