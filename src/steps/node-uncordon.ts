import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { UPGRADE_BATCH, UPGRADE_REQUEST } from '../upgrade/run-keys.js';

const NODE_TIMEOUT_MS = 180_000;

/**
 * After a batch of nodes is upgraded: each Ready with its kubelet at the target, its upgrade
 * marks dropped and, if the upgrade cordoned it, uncordoned; its DaemonSets' pods Ready again
 * before the next batch starts.
 */
export const nodeUncordon: DeployStep = {
  id: 'node-uncordon',
  title: 'upgrade: the batch Ready at the new version, uncordoned, its pods Ready',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const { names } = data.need(UPGRADE_BATCH);
    const { to } = data.need(UPGRADE_REQUEST);
    const wait = { timeoutMs: NODE_TIMEOUT_MS, signal: ctx.signal };
    await withClusterApi(ctx, async (api, via) => {
      for (const name of names) await api.waitNodeAt(name, to, wait);
      for (const name of names) if (await api.finishNodeUpgrade(name)) ctx.changed(via.name);
      for (const name of names) await api.waitPodsReadyOn(name, wait);
      ctx.log(`${names.join(', ')}: Ready at ${to}, uncordoned, pods Ready`);
    });
  },
};
