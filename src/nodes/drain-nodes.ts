import type { DeployContext } from '../engine/step.js';
import { InputError } from '../errors.js';
import type { HostSpec } from '../inventory/schema.js';
import { type DrainPlan, podLabel } from '../kube/drain.js';
import type { KubeApi } from '../kube/types.js';

export interface DrainRequest {
  names: readonly string[];
  /** Delete pods no controller recreates, and those a PodDisruptionBudget still blocks at the timeout. */
  force: boolean;
  drainTimeoutMs: number;
}

/** Pods no controller would recreate are refused unless forced, before anything changes. */
export async function drainPlanFor(api: KubeApi, command: string, request: DrainRequest): Promise<DrainPlan> {
  const plan = await api.podsOn(request.names);
  if (plan.unmanaged.length && !request.force)
    throw new InputError(
      `${command} refused: no controller would recreate these pods, so draining the nodes would lose them: ${plan.unmanaged.map(podLabel).join(', ')}; move them yourself, or run again with --force to delete them`,
    );
  return plan;
}

/**
 * `kubectl drain` of the nodes: cordoned, their pods evicted (PodDisruptionBudgets respected up
 * to the timeout), pods without a controller deleted (the plan allowed them only with --force),
 * and waited for until gone. Returns the pods evicted and those deleted with --force.
 */
export async function drainNodes(
  ctx: DeployContext,
  api: KubeApi,
  via: HostSpec,
  plan: DrainPlan,
  request: DrainRequest,
): Promise<{ evicted: string[]; deleted: string[] }> {
  if (ctx.dryRun) {
    ctx.log(
      `would cordon ${request.names.join(', ')} and evict ${plan.evict.map(podLabel).join(', ') || 'no pods'}`,
    );
    return { evicted: [], deleted: [] };
  }
  for (const node of request.names) if (await api.cordon(node)) ctx.changed(via.name);
  ctx.log(`cordoned ${request.names.join(', ')}; evicting ${plan.evict.length} pod(s)`);
  const wait = { timeoutMs: request.drainTimeoutMs, signal: ctx.signal };
  const deleted = await api.evictAll(plan.evict, { ...wait, force: request.force });
  for (const pod of plan.unmanaged) await api.deletePod(pod);
  await api.waitPodsGone([...plan.evict, ...plan.unmanaged], wait);
  const forced = [...deleted, ...plan.unmanaged].map(podLabel);
  if (forced.length) ctx.log(`deleted with --force: ${forced.join(', ')}`);
  ctx.log(`drained: ${plan.evict.length - deleted.length} pod(s) evicted`);
  return { evicted: plan.evict.map(podLabel).filter((p) => !forced.includes(p)), deleted: forced };
}
