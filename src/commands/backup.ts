import { copyFile, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../artifacts/bundle.js';
import { etcdMembers } from '../components/etcd.js';
import { HostPool } from '../engine/pool.js';
import { InterruptedError, NoHealthyMemberError, OperationError, unreachableHosts } from '../errors.js';
import { type Backup, type BackupManifest, backupName, listBackups, pruneBackups } from '../etcd/backups.js';
import { fetchRemoteFile } from '../etcd/fetch.js';
import { localSnapshotStatus } from '../etcd/local-tool.js';
import { keyCountAt, liveState, memberHealth, snapshotSaveArgv } from '../etcd/ops.js';
import { formatTable } from '../render/table.js';
import { sh } from '../transport/quote.js';
import { VERSION } from '../version.js';
import type { Cluster } from './context.js';

export interface BackupOptions {
  note?: string;
  /** Remove backups beyond etcd.backupsToKeep afterwards (not for the safety snapshot of a restore). */
  prune?: boolean;
  /** A restore's safety snapshot: marked so that `restore latest` never picks it. */
  safety?: boolean;
  /** Connections to reuse (a restore has them open already); otherwise the members are connected here. */
  pool?: HostPool;
  becomePassword?: string;
  signal?: AbortSignal;
  say: (line: string) => void;
}

const REMOTE_DIR = '/var/lib/kubesmith-backup';

/**
 * Takes a snapshot on a healthy member, streams it to clusters/<name>/backups/<time>/ with a
 * manifest, the PKI and the inventory, and verifies the copy (sha256 and etcd's own
 * snapshot status) before calling it done. The temporary file on the host, and a partial
 * local copy, are always removed.
 */
export async function takeBackup(
  cluster: Cluster,
  options: BackupOptions,
): Promise<Backup & { durationMs: number }> {
  const started = performance.now();
  const { inventory, file } = cluster.loaded;
  const members = etcdMembers(inventory);
  const pool =
    options.pool ??
    (await HostPool.connect(cluster.loaded, members, {
      knownHostsFile: cluster.paths.knownHosts,
      concurrency: members.length,
      becomePassword: options.becomePassword,
      signal: options.signal,
    }));
  const name = backupName();
  const staging = join(cluster.paths.backups, `.${name}.partial`);
  try {
    const reachable = members.filter((m) => pool.has(m.name));
    if (reachable.length === 0) throw unreachableHosts(pool.failures, 'take a backup');
    const health = await memberHealth(pool.get(reachable[0]!.name), inventory, options.signal);
    const chosen = reachable.find((m) => health.get(m.name));
    if (!chosen)
      throw new NoHealthyMemberError(
        'no etcd member is healthy; nothing to back up from (check journalctl -u etcd on the members)',
      );
    options.say(`taking the snapshot on ${chosen.name}`);
    const conn = pool.get(chosen.name);
    const live = await liveState(conn, options.signal);
    const remote = `${REMOTE_DIR}/snapshot-${name}.db`;
    await mkdir(staging, { recursive: true, mode: 0o700 });
    const local = join(staging, 'snapshot.db');
    let remoteSha: string;
    try {
      const saved = await conn.run(
        [
          'sh',
          '-c',
          sh`mkdir -p ${REMOTE_DIR} && ${snapshotSaveArgv(remote)} >/dev/null && sha256sum ${remote}`,
        ],
        {
          signal: options.signal,
          hint: `is ${REMOTE_DIR} on ${chosen.name} out of space? (df -h ${REMOTE_DIR})`,
        },
      );
      remoteSha = saved.stdout.trim().split(/\s+/)[0] ?? '';
      await fetchRemoteFile(conn, remote, local, options.signal);
    } finally {
      await conn.exec(['rm', '-f', remote]).catch(() => undefined);
    }
    const sha256 = await sha256File(local);
    if (sha256 !== remoteSha)
      throw new OperationError(
        `the copy of the snapshot differs from the original (sha256 ${sha256} vs ${remoteSha}); try again`,
      );
    const status = await localSnapshotStatus(inventory, file, local);
    // The number of keys at the snapshot's own revision: writes after the snapshot do not count.
    const atRevision =
      status.revision === 0
        ? 0
        : await keyCountAt(conn, status.revision, options.signal).catch((error: Error) => {
            if (error instanceof InterruptedError) throw error;
            options.say(
              `note: keys not counted at revision ${status.revision} (${error.message}); the count read before the snapshot is kept`,
            );
            return undefined;
          });
    const manifest: BackupManifest = {
      format: 1,
      cluster: inventory.cluster.name,
      createdAt: new Date().toISOString(),
      note: options.note ?? '',
      kubesmithVersion: VERSION,
      etcdVersion: live.version,
      members: live.members,
      takenFrom: chosen.name,
      revision: status.revision,
      keyCount: atRevision ?? live.keyCount,
      snapshot: {
        file: 'snapshot.db',
        sha256,
        size: (await stat(local)).size,
        hash: status.hash,
        totalKey: status.totalKey,
      },
      walDir: inventory.etcd.walDir,
      safety: options.safety ?? false,
      keyCountAtRevision: atRevision !== undefined,
    };
    await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, {
      mode: 0o600,
    });
    await cp(cluster.paths.pki, join(staging, 'pki'), { recursive: true });
    await copyFile(file, join(staging, 'inventory.yaml'));
    const dir = join(cluster.paths.backups, name);
    await rename(staging, dir);
    const removed =
      options.prune === false ? [] : await pruneBackups(cluster.paths.backups, inventory.etcd.backupsToKeep);
    if (removed.length)
      options.say(
        `removed ${removed.length} old backup(s) beyond etcd.backupsToKeep=${inventory.etcd.backupsToKeep}: ${removed.join(', ')}`,
      );
    return { name, dir, manifest, durationMs: Math.round(performance.now() - started) };
  } finally {
    if (!options.pool) pool.close();
    await rm(staging, { recursive: true, force: true });
  }
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
