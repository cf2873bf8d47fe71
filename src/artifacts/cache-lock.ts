import { join } from 'node:path';
import { acquireLock, type Lock } from '../engine/lock.js';
import { LockedError } from '../errors.js';

/** How long a process waits for another kubesmith that fills the same cache entry. */
export const CACHE_LOCK_WAIT_MS = 15 * 60_000;

export interface CacheLockOptions {
  /** Give up after this long (default CACHE_LOCK_WAIT_MS). */
  waitMs?: number;
  signal?: AbortSignal;
  say?: (line: string) => void;
}

const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Runs fn holding the lock file of one download cache entry (dir/.lock), so that two
 * kubesmith processes never write the same archive, unpacked files or index at once. A
 * process that finds the lock held waits for it; a lock left by a dead process is taken over.
 */
export async function withCacheLock<T>(
  dir: string,
  label: string,
  fn: () => Promise<T>,
  options: CacheLockOptions = {},
): Promise<T> {
  const file = join(dir, '.lock');
  const deadline = Date.now() + (options.waitMs ?? CACHE_LOCK_WAIT_MS);
  let lock: Lock | undefined;
  let told = false;
  while (!lock) {
    try {
      lock = await acquireLock(file, `download ${label}`);
    } catch (error) {
      if (!(error instanceof LockedError)) throw error;
      if (Date.now() >= deadline)
        throw new LockedError(
          `the download cache entry ${dir} stays locked: ${error.message.split(';')[0]}`,
          { cause: error },
        );
      if (!told) options.say?.(`waiting for another kubesmith that is downloading ${label}`);
      told = true;
      await pause(200, options.signal);
    }
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
