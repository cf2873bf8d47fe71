import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { InputError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { replaceInventory } from '../inventory/edit.js';
import { UPGRADE_INVENTORY_BACKUP, UPGRADE_PENDING, UPGRADE_REQUEST } from '../upgrade/run-keys.js';
import { judgeUpgrade } from '../upgrade/skew.js';

const versionSchema = z.object({ gitVersion: z.string() }).loose();

/**
 * upgrade's first phase, before any change: the versions the API reports (the control plane's,
 * every kubelet's) judged against the version-skew policy and the target; the hosts not at the
 * target yet recorded (a re-run resumes with them); then the inventory at the target version,
 * the previous file kept, so a later setup does not take upgraded hosts back.
 */
export const upgradeCheck: DeployStep = {
  id: 'upgrade-check',
  title: 'upgrade: the cluster checked against the version-skew policy; the inventory at the target version',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.need(UPGRADE_REQUEST);
    const hosts = ctx.inventory.hosts.filter((h) => h.roles.includes('master') || h.roles.includes('node'));
    const verdict = await withClusterApi(ctx, async (api) => {
      const answer = await api.rawGet('/version');
      const version = versionSchema.parse(JSON.parse(answer.body)).gitVersion;
      return { version, ...judgeUpgrade(hosts, version, await api.nodeVersions(), request.to) };
    });
    if (verdict.problems.length) throw new InputError(`upgrade refused:\n  ${verdict.problems.join('\n  ')}`);
    data.set(UPGRADE_PENDING, verdict.pending);
    ctx.log(
      `control plane ${verdict.version}; kubelets to upgrade: ${verdict.pending.join(', ') || 'none (all at the target)'}`,
    );
    if (verdict.strangers.length)
      ctx.log(`nodes not in the inventory, left as they are: ${verdict.strangers.join(', ')}`);
    if ((await readFile(ctx.inventoryFile, 'utf8')) === request.inventoryText) return;
    if (ctx.dryRun) return ctx.log(`would set kubernetesVersion ${request.to} in ${ctx.inventoryFile}`);
    const kept = await replaceInventory(ctx.inventoryFile, request.inventoryText, request.stamp);
    data.set(UPGRADE_INVENTORY_BACKUP, kept);
    ctx.log(`${ctx.inventoryFile}: kubernetesVersion ${request.to}; the previous one is at ${kept}`);
  },
};
