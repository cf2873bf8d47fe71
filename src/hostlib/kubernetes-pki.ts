import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deployMachineKubeconfigs } from '../components/kubernetes/kubeconfigs.js';
import { once } from '../engine/shared.js';
import type { RunContext } from '../engine/step.js';
import { ensureEncryptionKey } from '../pki/encryption-key.js';
import { clusterCerts } from '../pki/kubernetes-spec.js';
import { ensurePki, type Pki } from '../pki/store.js';

export interface KubernetesPki {
  pki: Pki;
  encryptionKey: Buffer;
}

/**
 * The cluster's whole PKI (CAs, etcd and Kubernetes certs, the service-account pair), the
 * Secrets encryption key, and the deploy machine's kubeconfigs (0600), once per run. In a
 * dry run nothing is written.
 */
export function kubernetesPki(ctx: RunContext): Promise<KubernetesPki> {
  return once(ctx.shared, 'pki:kubernetes', async () => {
    const dir = join(ctx.clusterDir, 'pki');
    const persist = !ctx.dryRun;
    const pki = await ensurePki(dir, clusterCerts(ctx.inventory), { persist });
    for (const change of pki.changes)
      ctx.log(
        `pki: ${change.action} ${change.id} (${change.reason})${persist ? '' : ' [dry run: not written]'}`,
      );
    const { key, created } = await ensureEncryptionKey(dir, { persist });
    if (created)
      ctx.log(`pki: created the Secrets encryption key${persist ? '' : ' [dry run: not written]'}`);
    if (persist)
      for (const local of deployMachineKubeconfigs(ctx.inventory, pki))
        await writeIfDifferent(join(ctx.clusterDir, local.file), local.content, local.mode);
    return { pki, encryptionKey: key };
  });
}

async function writeIfDifferent(file: string, content: string, mode: number): Promise<void> {
  if ((await readFile(file, 'utf8').catch(() => undefined)) === content) return chmod(file, mode);
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  const staged = `${file}.tmp-${process.pid}`;
  await writeFile(staged, content, { mode });
  await rename(staged, file);
}

/**
 * Steps keep the PKI they read in the run's shared data under keys starting with this
 * (hostlib/kubernetes-pki.ts 'pki:kubernetes', steps/etcd.ts 'pki:etcd'); the preflights filled them
 * before this phase reissued, so they are dropped and the rollout steps read the store again.
 */
const PKI_MEMO_PREFIX = 'pki:';

export function forgetPkiMemos(shared: Map<string, unknown>): string[] {
  const dropped = [...shared.keys()].filter((k) => k.startsWith(PKI_MEMO_PREFIX));
  for (const key of dropped) shared.delete(key);
  return dropped;
}
