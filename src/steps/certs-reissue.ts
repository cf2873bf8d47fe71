import { join } from 'node:path';
import { REISSUE_IDS, REISSUED } from '../certs/run-keys.js';
import { runData } from '../engine/run-data.js';
import type { DeployStep, RunContext } from '../engine/step.js';
import { forgetPkiMemos } from '../hostlib/kubernetes-pki.js';
import { clusterCerts } from '../pki/kubernetes-spec.js';
import { ensurePki } from '../pki/store.js';

/** Reissues the leaves the command chose in the deploy machine's store; the CAs stay. */
export async function reissueLeaves(ctx: RunContext, ids: ReadonlySet<string>) {
  const pki = await ensurePki(join(ctx.clusterDir, 'pki'), clusterCerts(ctx.inventory), {
    persist: !ctx.dryRun,
    reissue: ids,
  });
  forgetPkiMemos(ctx.shared);
  return pki.changes;
}

/**
 * certs renew, after the snapshot and before the rollout: every planned leaf certificate
 * reissued in pki/ (new key, new serial, same CA). The setup steps that follow find their files
 * changed and restart what reads them, one host at a time.
 */
export const certsReissue: DeployStep = {
  id: 'certs-reissue',
  title: 'leaf certificates reissued in the deploy machine PKI store',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const changes = await reissueLeaves(ctx, data.need(REISSUE_IDS));
    data.set(REISSUED, changes);
    for (const change of changes) ctx.log(`pki: ${change.action} ${change.id} (${change.reason})`);
  },
};
