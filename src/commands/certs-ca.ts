import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CaRotationPlan, caRotationPlan } from '../certs/ca-plan.js';
import { certInfo } from '../certs/read.js';
import { REISSUE_IDS, REISSUED } from '../certs/run-keys.js';
import { RunData } from '../engine/run-data.js';
import { InputError } from '../errors.js';
import { SNAPSHOT_REQUEST, SNAPSHOT_TAKEN } from '../etcd/run-keys.js';
import { enterPhase, type RotationPhase } from '../pki/rotation.js';
import { cas } from '../pki/spec.js';
import { readUserRecords } from '../pki/user-records.js';
import type { Day2Options } from './backup.js';
import { recordedRotation, runRollout } from './certs.js';
import type { Cluster } from './context.js';

export interface CaRotationOptions extends Day2Options {
  /** Shown the plan under the lock, before any host is connected; throws to refuse. */
  approve(plan: CaRotationPlan): Promise<void>;
}

export interface CaRotationResult {
  plan: CaRotationPlan;
  phases: RotationPhase[];
  reissued: number;
  snapshot?: string;
}

/**
 * certs renew --ca: the phases left (all three for a new rotation), each one run of its playbook
 * (playbooks/certs-ca-*.yaml) with one host at a time. The plan is approved before the first
 * connects; the first run takes the snapshot. A failed phase stays recorded, and the same command
 * resumes it.
 */
export async function rotateCas(cluster: Cluster, options: CaRotationOptions): Promise<CaRotationResult> {
  const inv = cluster.loaded.inventory;
  const pkiDir = join(cluster.paths.dir, 'pki');
  for (const ca of cas(inv)) {
    await access(join(pkiDir, `${ca.id}.key`)).catch(() => {
      throw new InputError(
        `certs renew --ca: no CA key at ${join(pkiDir, `${ca.id}.key`)}; the rotation works on a cluster this deploy machine set up (its PKI store)`,
      );
    });
    const notAfter = certInfo(await readFile(join(pkiDir, `${ca.id}.crt`), 'utf8')).notAfter;
    if (notAfter.getTime() <= Date.now())
      throw new InputError(
        `certs renew --ca: the CA ${ca.id} expired on ${notAfter.toISOString()}; a rotation with an overlap needs CAs the cluster still trusts. Nothing was changed`,
      );
  }
  const state = await recordedRotation(pkiDir);
  // A swap the last run began (the record at new-signing) is finished first: the setup steps'
  // checks read the store before the phase step would.
  if (state?.phase === 'new-signing') await enterPhase(pkiDir, 'new-signing', cas(inv));
  const users = (await readUserRecords(cluster.paths.dir)).filter((u) => u.hasKubeconfig).map((u) => u.user);
  const plan = caRotationPlan(inv, state, users);
  const done: RotationPhase[] = [];
  let reissued = 0;
  let snapshot: string | undefined;
  for (const { phase } of plan.phases) {
    const first = done.length === 0;
    const data = new RunData();
    if (first) data.set(SNAPSHOT_REQUEST, { note: 'before certs renew --ca', prune: true, safety: false });
    if (phase === 'new-signing') data.set(REISSUE_IDS, new Set(plan.leaves));
    await runRollout(
      cluster,
      `certs-ca-${phase}`,
      data,
      options,
      first ? () => options.approve(plan) : undefined,
    );
    snapshot ??= data.get(SNAPSHOT_TAKEN)?.name;
    reissued += data.get(REISSUED)?.length ?? 0;
    done.push(phase);
  }
  return { plan, phases: done, reissued, snapshot };
}
