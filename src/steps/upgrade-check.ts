import { z } from 'zod';
import { APISERVER_PORT } from '../components/kubeconfig.js';
import { adminKubeconfig } from '../components/kubernetes/kubeconfigs.js';
import { runData } from '../engine/run-data.js';
import type { DeployContext, DeployStep } from '../engine/step.js';
import { InputError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { kubernetesPki } from '../hostlib/kubernetes-pki.js';
import { openKubeApi } from '../kube/api.js';
import { drainPlanFor } from '../nodes/drain-nodes.js';
import { UPGRADE_PENDING, UPGRADE_REQUEST } from '../upgrade/run-keys.js';
import { judgeUpgrade } from '../upgrade/skew.js';

const versionSchema = z.object({ gitVersion: z.string() }).loose();

/** What each master's own apiserver answers at /version (not the balancer, which picks any of them). */
async function apiserverVersions(ctx: DeployContext): Promise<Map<string, string>> {
  const { pki } = await kubernetesPki(ctx);
  const kubeconfig = adminKubeconfig(ctx.inventory, pki);
  const versions = new Map<string, string>();
  for (const master of ctx.hosts.filter((h) => h.roles.includes('master'))) {
    const target = { host: master.address, port: APISERVER_PORT };
    const api = await openKubeApi(ctx.conn(master.name), kubeconfig, { signal: ctx.signal, target });
    try {
      const answer = await api.rawGet('/version');
      versions.set(master.name, versionSchema.parse(JSON.parse(answer.body)).gitVersion);
    } finally {
      await api.close();
    }
  }
  return versions;
}

/**
 * upgrade's first phase, before any change: every apiserver's and kubelet's version judged
 * against the version-skew policy and the target; the hosts not done yet recorded (a re-run
 * resumes with them); pods on them that no controller would recreate refused unless --force.
 */
export const upgradeCheck: DeployStep = {
  id: 'upgrade-check',
  title: 'upgrade: the cluster checked against the version-skew policy, before any change',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.need(UPGRADE_REQUEST);
    const hosts = ctx.inventory.hosts.filter((h) => h.roles.includes('master') || h.roles.includes('node'));
    const apiservers = await apiserverVersions(ctx);
    await withClusterApi(ctx, async (api) => {
      const verdict = judgeUpgrade(hosts, apiservers, await api.nodeVersions(), request.to);
      if (verdict.problems.length)
        throw new InputError(`upgrade refused:\n  ${verdict.problems.join('\n  ')}`);
      await drainPlanFor(api, 'upgrade', { ...request, names: verdict.pending });
      data.set(UPGRADE_PENDING, verdict.pending);
      ctx.log(
        `apiservers ${[...new Set(apiservers.values())].join(', ')}; kubelets to upgrade: ${verdict.pending.join(', ') || 'none (all at the target)'}`,
      );
      if (verdict.strangers.length)
        ctx.log(`nodes not in the inventory, left as they are: ${verdict.strangers.join(', ')}`);
    });
  },
};
