import { join } from 'node:path';
import { type CertRow, judgeCerts, storeFingerprints } from '../certs/judge.js';
import { checkCas, type RenewPlan, renewPlan } from '../certs/renew-plan.js';
import { CERT_READINGS, REISSUE_IDS, REISSUED } from '../certs/run-keys.js';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { InputError } from '../errors.js';
import { SNAPSHOT_REQUEST, SNAPSHOT_TAKEN } from '../etcd/run-keys.js';
import type { LoadedInventory } from '../inventory/load.js';
import { type RotationState, readRotation } from '../pki/rotation.js';
import type { PkiChange } from '../pki/store.js';
import { STEPS } from '../steps/index.js';
import type { Day2Options } from './backup.js';
import type { Cluster } from './context.js';
import { preflightOf } from './day2.js';

/**
 * Runs playbooks/certs-check.yaml (one sectioned read per host) and judges what it read against
 * the clock and the deploy machine's store.
 */
export async function checkCerts(cluster: Cluster, options: Day2Options): Promise<CertRow[]> {
  const data = new RunData();
  await runCommandPlaybook({
    label: 'certs-check',
    playbook: 'certs-check',
    paths: cluster.paths,
    loaded: cluster.loaded,
    registry: STEPS,
    display: options.display,
    data,
    becomePassword: options.becomePassword,
    signal: options.signal,
  });
  const readings = data.need(CERT_READINGS);
  const store = await storeFingerprints(
    join(cluster.paths.dir, 'pki'),
    readings.map((r) => r.id).filter(Boolean),
  );
  return judgeCerts(readings, store, new Date());
}

/** The rotation recorded in the store, as input: a record kubesmith cannot read stops the command. */
export async function recordedRotation(pkiDir: string): Promise<RotationState | undefined> {
  try {
    return await readRotation(pkiDir);
  } catch (error) {
    throw new InputError((error as Error).message, [], { cause: error });
  }
}

export interface RenewOptions extends Day2Options {
  /** Shown the plan under the lock, before any host is connected; throws to refuse. */
  approve(plan: RenewPlan): Promise<void>;
}

export interface RenewResult {
  plan: RenewPlan;
  reissued: PkiChange[];
  snapshot?: string;
}

/** The same inventory with one host at a time: every host step of the run takes its hosts in turn. */
export function oneHostAtATime(loaded: LoadedInventory): LoadedInventory {
  const { inventory } = loaded;
  return { ...loaded, inventory: { ...inventory, ssh: { ...inventory.ssh, concurrency: 1 } } };
}

/**
 * Runs a certificate rollout playbook with one host at a time, setup's host checks (a downgrade
 * among them) first, before the first etcd member gets new files; beforeConnect approves the plan.
 */
export async function runRollout(
  cluster: Cluster,
  playbook: string,
  data: RunData,
  options: Day2Options,
  beforeConnect?: () => Promise<void>,
): Promise<void> {
  await runCommandPlaybook({
    label: playbook,
    playbook,
    paths: cluster.paths,
    loaded: oneHostAtATime(cluster.loaded),
    registry: STEPS,
    display: options.display,
    data,
    becomePassword: options.becomePassword,
    signal: options.signal,
    hostPreflight: preflightOf(cluster.loaded),
    ...(beforeConnect ? { beforeConnect } : {}),
  });
}

/**
 * Runs playbooks/certs-renew.yaml: input and the store's CAs checked first, the plan approved
 * under the lock, then a snapshot, the leaves reissued here, and the rollout one host at a time
 * (etcd members, masters, kubelet hosts), ending with the health checks.
 */
export async function renewCerts(cluster: Cluster, options: RenewOptions): Promise<RenewResult> {
  const inv = cluster.loaded.inventory;
  const rotation = await recordedRotation(join(cluster.paths.dir, 'pki'));
  if (rotation)
    throw new InputError(
      `certs renew: a CA rotation started ${rotation.startedAt} stopped at phase ${rotation.phase}; nothing was changed. Finish it first: kubesmith certs renew ${inv.cluster.name} --ca (it reissues every leaf too)`,
    );
  const warnings = await checkCas(join(cluster.paths.dir, 'pki'), inv);
  const plan: RenewPlan = { ...renewPlan(inv), warnings };
  const data = new RunData();
  data.set(SNAPSHOT_REQUEST, { note: 'before certs renew', prune: true, safety: false });
  data.set(REISSUE_IDS, new Set(plan.leaves));
  await runRollout(cluster, 'certs-renew', data, options, () => options.approve(plan));
  return { plan, reissued: data.get(REISSUED) ?? [], snapshot: data.get(SNAPSHOT_TAKEN)?.name };
}
