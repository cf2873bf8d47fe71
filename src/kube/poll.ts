import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError } from '../errors.js';
import { KubeApiError } from './responses.js';
import type { WaitOptions } from './types.js';

const POLL_INTERVAL_MS = 1000;

/** The signals a wait obeys: the API's own and the caller's. */
export function eitherSignal(a?: AbortSignal, b?: AbortSignal): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

/** An apiserver shutting down answers 429 with Retry-After (--shutdown-send-retry-after). */
const TOO_MANY_REQUESTS = 429;

/**
 * Asks done() every second until it says true (returns true) or timeoutMs has passed (false). A request
 * that found no apiserver (no HTTP status: a restart, a dropped connection) or one asking to retry (429)
 * is asked again; when that is still the case at the deadline, its error is thrown. Abort throws
 * InterruptedError.
 */
export async function pollUntil(done: () => Promise<boolean>, options: WaitOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    let unreachable: KubeApiError | undefined;
    try {
      if (await done()) return true;
    } catch (error) {
      const transient =
        error instanceof KubeApiError && (error.status === undefined || error.status === TOO_MANY_REQUESTS);
      if (!transient) throw error;
      unreachable = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      if (unreachable) throw unreachable;
      return false;
    }
    await sleep(Math.min(POLL_INTERVAL_MS, left), undefined, { signal: options.signal }).catch(() => {
      throw new InterruptedError();
    });
  }
}

export const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
