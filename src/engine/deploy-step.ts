import { InterruptedError } from '../errors.js';
import type { HostSpec } from '../inventory/schema.js';
import type { ErrorInfo, EventSink, HostSummary } from './events.js';
import { errorInfo, type HostPool } from './pool.js';
import { recordFailure } from './run-data.js';
import type { DeployContext, DeployStep, RunContext } from './step.js';

export interface DeployStepRun {
  step: DeployStep;
  /** The step's hosts still in the run. */
  hosts: readonly HostSpec[];
  runCtx: RunContext;
  pool: HostPool;
  summaries: Map<string, HostSummary>;
  sink: EventSink;
}

/**
 * Runs a deploy-machine step once, with the connections of its hosts. Its log lines are run
 * logs prefixed with the step id; each host of the step gets the step's outcome (a failure
 * fails them all, so nothing after it runs on them), with the changes counted on it.
 */
export async function runDeployStep({
  step,
  hosts,
  runCtx,
  pool,
  summaries,
  sink,
}: DeployStepRun): Promise<void> {
  const started = performance.now();
  const names = hosts.map((h) => h.name);
  sink({ type: 'step-start', step: step.id, title: step.title, hosts: names });
  for (const host of names) sink({ type: 'host-start', step: step.id, host });
  const changes = new Map<string, number>(names.map((n) => [n, 0]));
  const ctx: DeployContext = {
    ...runCtx,
    hosts,
    conn: (host) => pool.get(host),
    log: (message) => sink({ type: 'run-log', message: `${step.id}: ${message}` }),
    changed: (host) => changes.set(host, (changes.get(host) ?? 0) + 1),
    report: (report) => sink({ type: 'verify-report', step: step.id, report }),
  };
  let error: ErrorInfo | undefined;
  try {
    if (runCtx.signal.aborted) throw new InterruptedError();
    await step.run(ctx);
  } catch (failure) {
    recordFailure(runCtx.shared, failure);
    error = failure instanceof InterruptedError ? { message: 'interrupted' } : errorInfo(failure);
  }
  // The whole error once; each host carries its first line (the same story, not five copies of it).
  const [headline, ...details] = error?.message.split('\n') ?? [];
  if (error && details.length) sink({ type: 'run-log', message: `${step.id}: ${error.message}` });
  const hostError = error && details.length ? { ...error, message: `${headline} (details above)` } : error;
  const durationMs = Math.round(performance.now() - started);
  for (const host of names) {
    const summary = summaries.get(host)!;
    const changed = changes.get(host) ?? 0;
    summary.changed += changed;
    const status = error ? 'failed' : changed > 0 ? 'changed' : 'ok';
    // A host an earlier step failed keeps that first failure (a read-only step reports on it too).
    if (hostError && summary.status !== 'failed')
      Object.assign(summary, { status, failedStep: step.id, error: hostError });
    else if (status === 'changed' && summary.status === 'ok') summary.status = 'changed';
    sink({
      type: 'host-end',
      step: step.id,
      host,
      status,
      changed,
      durationMs,
      ...(hostError ? { error: hostError } : {}),
    });
  }
  sink({ type: 'step-end', step: step.id, durationMs });
}
