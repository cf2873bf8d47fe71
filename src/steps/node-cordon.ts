import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { drainNodes, drainPlanFor } from '../nodes/drain-nodes.js';
import { UPGRADE_BATCH, UPGRADE_REQUEST } from '../upgrade/run-keys.js';

/**
 * Before a batch of nodes is upgraded: each marked as being upgraded and cordoned (a re-run
 * takes a marked node again, whatever its kubelet reports), then drained, PodDisruptionBudgets
 * respected up to --drain-timeout.
 */
export const nodeCordon: DeployStep = {
  id: 'node-cordon',
  title: 'upgrade: cordon and drain the batch (PodDisruptionBudgets respected)',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const batch = data.need(UPGRADE_BATCH);
    const { to } = data.need(UPGRADE_REQUEST);
    await withClusterApi(ctx, async (api, via) => {
      const plan = await drainPlanFor(api, 'upgrade', batch);
      for (const name of batch.names) if (await api.startNodeUpgrade(name, to)) ctx.changed(via.name);
      await drainNodes(ctx, api, via, plan, batch);
    });
  },
};
