import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { podLabel } from '../kube/drain.js';
import { drainNodes, drainPlanFor } from '../nodes/drain-nodes.js';
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
      const plan = await drainPlanFor(api, 'del-node', request);
      if (request.unreachable) {
        ctx.log('--unreachable: no drain; their pods go with the Node objects and are recreated elsewhere');
        return data.set(DRAIN_RESULT, { evicted: [], deleted: plan.unmanaged.map(podLabel) });
      }
      const result = await drainNodes(ctx, api, via, plan, request);
      if (!ctx.dryRun) data.set(DRAIN_RESULT, result);
    });
  },
};
