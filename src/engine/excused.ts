import type { EventSink, HostSummary } from './events.js';
import type { HostPool } from './pool.js';

/**
 * Lets a run go on without hosts it names as possibly gone (del-etcd: the members it removes, one
 * of which may be the dead machine it is removing): those that could not be reached at all are
 * reported as skipped and taken out of the pool's failures, so only the others stop the run. A
 * named host that answered but failed to connect (keys, host key, sudo) still stops it.
 */
export function excuseUnreachable(
  pool: HostPool,
  names: readonly string[],
  summaries: Map<string, HostSummary>,
  sink: EventSink,
): void {
  const excused = [...pool.failures.keys()].filter((h) => names.includes(h) && pool.unreachable.has(h));
  for (const host of excused) {
    const error = pool.failures.get(host)!;
    Object.assign(summaries.get(host)!, {
      status: 'skipped',
      failedStep: 'connect',
      error: { ...error, message: `unreachable, left out: ${error.message}` },
    });
    pool.failures.delete(host);
  }
  if (excused.length)
    sink({
      type: 'run-log',
      message: `going on without unreachable ${excused.join(', ')}: no step runs there`,
    });
}
