import type { ServiceResource } from '../engine/resources.js';
import type { StepContext } from '../engine/step.js';
import { OperationError } from '../errors.js';

/**
 * start and stop: units brought to a state, enabled with it (a host rebooted while the cluster
 * is stopped keeps it stopped; start enables them again, as setup left them).
 */
export function unitState(name: string, state: ServiceResource['state'], noBlock = false): ServiceResource {
  return { kind: 'service', name, state, enabled: state === 'started', ...(noBlock ? { noBlock } : {}) };
}

/** Stops the units one after another, each stopped before the next is asked (one apply each). */
export async function stopInOrder(ctx: StepContext, units: readonly string[]): Promise<void> {
  for (const unit of units) await ctx.apply([unitState(unit, 'stopped')]);
}

/** Runs a wait script from components' health helpers; its stderr says what is still unhealthy. */
export async function waitFor(ctx: StepContext, script: string, what: string, hint: string): Promise<void> {
  if (ctx.dryRun) return;
  const result = await ctx.conn.exec(['sh', '-c', script], { signal: ctx.signal });
  if (result.exitCode !== 0)
    throw new OperationError(`${ctx.host.name}: ${what}\n${result.stderr.trim()}`.trim(), hint);
}
