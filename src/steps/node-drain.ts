import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { InputError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { podLabel } from '../kube/drain.js';
import { DRAIN_RESULT, NODE_LEAVE_REQUEST } from '../nodes/run-keys.js';

/**
 * del-node's first phase: the pods on the leaving nodes read and sorted; pods no controller
 * would recreate refused unless --force (before anything changes); then the nodes cordoned and
 * their pods evicted, PodDisruptionBudgets respected up to --drain-timeout.
 */
export const nodeDrain: DeployStep = {
  id: 'node-drain',
  title: 'del-node: cordon and drain the leaving nodes (PodDisruptionBudgets respected)',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.need(NODE_LEAVE_REQUEST);
    await withClusterApi(ctx, async (api, via) => {
      const plan = await api.podsOn(request.names);
      if (plan.unmanaged.length && !request.force)
        throw new InputError(
          `del-node refused: no controller would recreate these pods, so removing the nodes would lose them: ${plan.unmanaged.map(podLabel).join(', ')}; move them yourself, or run again with --force to delete them`,
        );
      if (request.unreachable) {
        ctx.log('--unreachable: no drain; their pods go with the Node objects and are recreated elsewhere');
        return data.set(DRAIN_RESULT, { evicted: [], deleted: plan.unmanaged.map(podLabel) });
      }
      if (ctx.dryRun) {
        ctx.log(
          `would cordon ${request.names.join(', ')} and evict ${plan.evict.map(podLabel).join(', ') || 'no pods'}`,
        );
        return;
      }
      for (const node of request.names) if (await api.cordon(node)) ctx.changed(via.name);
      ctx.log(`cordoned ${request.names.join(', ')}; evicting ${plan.evict.length} pod(s)`);
      const wait = { timeoutMs: request.drainTimeoutMs, signal: ctx.signal };
      const deleted = await api.evictAll(plan.evict, { ...wait, force: request.force });
      for (const pod of plan.unmanaged) await api.deletePod(pod);
      await api.waitPodsGone([...plan.evict, ...plan.unmanaged], wait);
      const forced = [...deleted, ...plan.unmanaged].map(podLabel);
      data.set(DRAIN_RESULT, {
        evicted: plan.evict.map(podLabel).filter((p) => !forced.includes(p)),
        deleted: forced,
      });
      if (forced.length) ctx.log(`deleted with --force: ${forced.join(', ')}`);
      ctx.log(`drained: ${plan.evict.length - deleted.length} pod(s) evicted`);
    });
  },
};
