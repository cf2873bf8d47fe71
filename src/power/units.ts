import type { ServiceResource } from '../engine/resources.js';
import type { StepContext } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { sh } from '../transport/quote.js';

/**
 * start and stop: units brought to a state, enabled with it (a host rebooted while the cluster
 * is stopped keeps it stopped; start enables them again, as setup left them).
 */
export function unitState(name: string, state: ServiceResource['state'], noBlock = false): ServiceResource {
  return { kind: 'service', name, state, enabled: state === 'started', ...(noBlock ? { noBlock } : {}) };
}

/**
 * Stops the units one after another, each stopped before the next is asked (one apply each).
 * A unit whose graceful stop ran past its TimeoutStopSec was killed and reads `failed`: that is
 * said (a changed action of its own) and reset, so it reads inactive like the others.
 */
export async function stopInOrder(ctx: StepContext, units: readonly string[]): Promise<void> {
  for (const unit of units) await ctx.apply([unitState(unit, 'stopped')]);
  await ctx.apply(
    units.map((unit) => ({
      kind: 'command' as const,
      title: `${unit}: its stop ran past TimeoutStopSec and systemd killed it; failed state reset`,
      argv: ['systemctl', 'reset-failed', `${unit}.service`],
      unless: ['sh', '-c', sh`! systemctl is-failed -q ${`${unit}.service`}`],
    })),
  );
}

/** Runs a wait script from components' health helpers; its stderr says what is still unhealthy. */
export async function waitFor(ctx: StepContext, script: string, what: string, hint: string): Promise<void> {
  if (ctx.dryRun) return;
  const result = await ctx.conn.exec(['sh', '-c', script], { signal: ctx.signal });
  if (result.exitCode !== 0)
    throw new OperationError(`${ctx.host.name}: ${what}\n${result.stderr.trim()}`.trim(), hint);
}
