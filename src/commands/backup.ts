import { etcdMembers } from '../components/etcd.js';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { listBackups } from '../etcd/backups.js';
import { SNAPSHOT_REQUEST, SNAPSHOT_TAKEN } from '../etcd/run-keys.js';
import type { TakenBackup } from '../etcd/snapshot.js';
import type { Renderer } from '../render/renderer.js';
import { formatTable } from '../render/table.js';
import { STEPS } from '../steps/index.js';
import type { Cluster } from './context.js';

/** What every day-2 etcd command needs to run its playbook. */
export interface Day2Options {
  becomePassword?: string;
  signal?: AbortSignal;
  /** Where the run's progress goes (the run log gets it too). */
  display: Renderer;
}

/**
 * Runs playbooks/backup.yaml: one snapshot, taken on a healthy member, copied here with the
 * manifest, the PKI and the inventory, verified; old backups pruned beyond etcd.backupsToKeep.
 */
export async function takeBackup(
  cluster: Cluster,
  options: Day2Options & { note?: string },
): Promise<TakenBackup> {
  const data = new RunData();
  data.set(SNAPSHOT_REQUEST, { note: options.note ?? '', prune: true, safety: false });
  await runCommandPlaybook({
    label: 'backup',
    playbook: 'backup',
    paths: cluster.paths,
    loaded: cluster.loaded,
    registry: STEPS,
    display: options.display,
    data,
    // A backup is most wanted when a member is down: one reachable, healthy member is enough.
    mayBeUnreachable: etcdMembers(cluster.loaded.inventory).map((h) => h.name),
    becomePassword: options.becomePassword,
    signal: options.signal,
  });
  return data.need(SNAPSHOT_TAKEN)!;
}

export async function formatBackupList(cluster: Cluster): Promise<string> {
  const backups = await listBackups(cluster.paths.backups);
  if (backups.length === 0)
    return `no backups in ${cluster.paths.backups}; take one with: kubesmith backup ${cluster.loaded.inventory.cluster.name}`;
  return formatTable(
    ['BACKUP', 'ETCD', 'REVISION', 'KEYS', 'SIZE', 'FROM', 'NOTE'],
    backups.map((b) => [
      b.name,
      b.manifest.etcdVersion,
      String(b.manifest.revision),
      String(b.manifest.keyCount),
      `${(b.manifest.snapshot.size / 1048576).toFixed(1)}M`,
      b.manifest.takenFrom,
      b.manifest.safety ? `[safety snapshot] ${b.manifest.note}` : b.manifest.note,
    ]),
  );
}
