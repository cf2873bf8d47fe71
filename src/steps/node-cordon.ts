import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { drainNodes, drainPlanFor } from '../nodes/drain-nodes.js';
import { UPGRADE_BATCH } from '../upgrade/run-keys.js';

/**
 * Before a batch of nodes is upgraded: pods no controller would recreate refused unless --force,
 * then the nodes cordoned and drained, PodDisruptionBudgets respected up to --drain-timeout.
 */
export const nodeCordon: DeployStep = {
  id: 'node-cordon',
  title: 'upgrade: cordon and drain the batch (PodDisruptionBudgets respected)',
  onDeployMachine: true,
  async run(ctx) {
    const batch = runData(ctx.shared).need(UPGRADE_BATCH);
    await withClusterApi(ctx, async (api, via) => {
      await drainNodes(ctx, api, via, await drainPlanFor(api, 'upgrade', batch), batch);
    });
  },
};
