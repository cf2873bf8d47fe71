import { join } from 'node:path';
import { sha256File } from '../artifacts/bundle.js';
import { etcdMembers } from '../components/etcd.js';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { InputError } from '../errors.js';
import { type Backup, latestBackup, readBackup } from '../etcd/backups.js';
import { localSnapshotStatus } from '../etcd/local-tool.js';
import {
  RESTORE_BACKUP,
  RESTORE_RESULT,
  type RestoreResult,
  SNAPSHOT_REQUEST,
  SNAPSHOT_TAKEN,
} from '../etcd/run-keys.js';
import { STEPS } from '../steps/index.js';
import type { Day2Options } from './backup.js';
import type { Cluster } from './context.js';

/**
 * Finds the backup and refuses it, before any host is touched, unless it fits this cluster and
 * is intact. Call it holding the cluster lock: a backup run or restore cannot change it meanwhile.
 * `latest` is the newest backup a user took, never a restore's safety snapshot.
 */
export async function checkBackup(cluster: Cluster, selector: string, force: boolean): Promise<Backup> {
  const { inventory, file } = cluster.loaded;
  let backup: Backup;
  if (selector === 'latest') {
    const latest = await latestBackup(cluster.paths.backups);
    if (!latest)
      throw new InputError(
        `no backups in ${cluster.paths.backups} (safety snapshots of restores do not count for latest; name one to restore it); take one with: kubesmith backup ${inventory.cluster.name}`,
      );
    backup = latest;
  } else backup = await readBackup(cluster.paths.backups, selector);
  const m = backup.manifest;
  if (m.cluster !== inventory.cluster.name)
    throw new InputError(
      `backup ${backup.name} is of cluster '${m.cluster}', not '${inventory.cluster.name}'`,
    );
  const members = etcdMembers(inventory).length;
  if (m.members.length !== members && !force) {
    throw new InputError(
      `backup ${backup.name} had ${m.members.length} etcd members, the inventory has ${members}; pass --force to restore onto this membership`,
    );
  }
  const snapshot = join(backup.dir, m.snapshot.file);
  const sha = await sha256File(snapshot).catch(() => 'missing');
  if (sha !== m.snapshot.sha256)
    throw new InputError(
      `${snapshot}: sha256 ${sha} does not match the manifest (${m.snapshot.sha256}); the backup is damaged`,
    );
  const status = await localSnapshotStatus(inventory, file, snapshot).catch((cause: Error) => {
    throw new InputError(`${snapshot}: ${cause.message}`, [], { cause });
  });
  if (status.hash !== m.snapshot.hash || status.revision !== m.revision) {
    throw new InputError(
      `${snapshot}: etcd reads hash ${status.hash} at revision ${status.revision}, the manifest says ${m.snapshot.hash} at ${m.revision}`,
    );
  }
  return backup;
}

export interface RestoreOptions extends Day2Options {
  force: boolean;
  /** Under the lock, with the backup checked: show the plan and ask; throwing stops before any host is connected. */
  approve(backup: Backup): Promise<void>;
}

export interface RestoreOutcome extends RestoreResult {
  backup: Backup;
  safetyBackup?: string;
}

/**
 * Runs playbooks/restore.yaml. Under the lock and before any host is connected, the backup is
 * found and checked (`checkBackup`) and approved; then, on one connection per host: a safety
 * snapshot when the cluster answers (marked, so `restore latest` skips it), every member's data
 * replaced all or nothing with apiservers stopped meanwhile, and the restored cluster checked
 * against the backup. Each run uses a new stamp, so a failed restore can be re-run.
 */
export async function restoreCluster(
  cluster: Cluster,
  selector: string,
  options: RestoreOptions,
): Promise<RestoreOutcome> {
  const data = new RunData();
  await runCommandPlaybook({
    label: `restore ${selector}`,
    playbook: 'restore',
    paths: cluster.paths,
    loaded: cluster.loaded,
    registry: STEPS,
    display: options.display,
    data,
    // Workers only get their agents restarted afterwards: one that cannot be reached does not stop a restore.
    mayBeUnreachable: cluster.loaded.inventory.hosts
      .filter((h) => h.roles.every((r) => r === 'node'))
      .map((h) => h.name),
    becomePassword: options.becomePassword,
    signal: options.signal,
    beforeConnect: async () => {
      // Under the lock: no backup or restore may change the backups while this one is checked and used.
      const backup = await checkBackup(cluster, selector, options.force);
      data.set(RESTORE_BACKUP, backup);
      data.set(SNAPSHOT_REQUEST, {
        note: `safety snapshot before restoring ${backup.name}`,
        prune: false,
        safety: true,
      });
      await options.approve(backup);
    },
  });
  return {
    ...data.need(RESTORE_RESULT),
    backup: data.need(RESTORE_BACKUP),
    safetyBackup: data.get(SNAPSHOT_TAKEN)?.name,
  };
}
