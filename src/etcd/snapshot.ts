import { copyFile, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../artifacts/bundle.js';
import { InterruptedError, NoHealthyMemberError, OperationError } from '../errors.js';
import { clusterIdFile } from '../hostlib/marker.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { RETIRED_DIR } from '../pki/rotation.js';
import { sh } from '../transport/quote.js';
import type { SshConnection } from '../transport/ssh.js';
import { VERSION } from '../version.js';
import { type Backup, type BackupManifest, freeBackupName, pruneBackups } from './backups.js';
import { fetchRemoteFile } from './fetch.js';
import { localSnapshotStatus } from './local-tool.js';
import { keyCountAt, liveState, memberHealth, snapshotSaveArgv } from './ops.js';

export interface SnapshotRequest {
  note: string;
  /** Remove backups beyond etcd.backupsToKeep afterwards (not for the safety snapshot of a restore). */
  prune: boolean;
  /** A restore's safety snapshot: marked so that `restore latest` never picks it. */
  safety: boolean;
}

export interface SnapshotPlace {
  inventory: Inventory;
  inventoryFile: string;
  /** clusters/<name>/: backups/ and pki/ are in it. */
  clusterDir: string;
  /** The connected etcd members. */
  members: readonly HostSpec[];
  conn(host: string): SshConnection;
  signal: AbortSignal;
  say(line: string): void;
}

export type TakenBackup = Backup & { durationMs: number };

const REMOTE_DIR = '/var/lib/kubesmith-backup';

/**
 * Takes a snapshot on a healthy member, streams it to clusters/<name>/backups/<time>/ with a
 * manifest, the PKI and the inventory, and verifies the copy (sha256 and etcd's own snapshot
 * status) before calling it done. The temporary file on the host, and a partial local copy,
 * are always removed. No healthy member: NoHealthyMemberError.
 */
export async function takeSnapshot(place: SnapshotPlace, request: SnapshotRequest): Promise<TakenBackup> {
  const started = performance.now();
  const { inventory, signal, say } = place;
  const backups = join(place.clusterDir, 'backups');
  const name = freeBackupName(backups);
  const staging = join(backups, `.${name}.partial`);
  try {
    const health = await memberHealth(place.conn(place.members[0]!.name), inventory, signal);
    const chosen = place.members.find((m) => health.get(m.name));
    if (!chosen)
      throw new NoHealthyMemberError(
        'no etcd member is healthy; nothing to back up from (check journalctl -u etcd on the members)',
      );
    say(`taking the snapshot on ${chosen.name}`);
    const conn = place.conn(chosen.name);
    const live = await liveState(conn, signal);
    await mkdir(staging, { recursive: true, mode: 0o700 });
    const local = join(staging, 'snapshot.db');
    const remoteSha = await saveAndFetch(conn, `${REMOTE_DIR}/snapshot-${name}.db`, local, signal);
    const sha256 = await sha256File(local);
    if (sha256 !== remoteSha)
      throw new OperationError(
        `the copy of the snapshot differs from the original (sha256 ${sha256} vs ${remoteSha}); try again`,
      );
    const status = await localSnapshotStatus(inventory, place.inventoryFile, local);
    // The number of keys at the snapshot's own revision: writes after the snapshot do not count.
    const atRevision =
      status.revision === 0
        ? 0
        : await keyCountAt(conn, status.revision, signal).catch((error: Error) => {
            if (error instanceof InterruptedError) throw error;
            say(
              `note: keys not counted at revision ${status.revision} (${error.message}); the count read before the snapshot is kept`,
            );
            return undefined;
          });
    const manifest: BackupManifest = {
      format: 1,
      cluster: inventory.cluster.name,
      createdAt: new Date().toISOString(),
      note: request.note,
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
      safety: request.safety,
      keyCountAtRevision: atRevision !== undefined,
    };
    await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, {
      mode: 0o600,
    });
    const retired = join(place.clusterDir, 'pki', RETIRED_DIR);
    // The CAs a rotation retired stay on this machine only: a backup carries no more old keys than it needs.
    await cp(join(place.clusterDir, 'pki'), join(staging, 'pki'), {
      recursive: true,
      filter: (source) => source !== retired && !source.startsWith(`${retired}/`),
    });
    await copyFile(place.inventoryFile, join(staging, 'inventory.yaml'));
    // The hosts' markers carry this id: a deploy machine rebuilt from this folder needs it back.
    await copyFile(clusterIdFile(place.clusterDir), join(staging, 'cluster-id')).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      },
    );
    const dir = join(backups, name);
    await rename(staging, dir);
    const removed = request.prune ? await pruneBackups(backups, inventory.etcd.backupsToKeep) : [];
    if (removed.length)
      say(
        `removed ${removed.length} old backup(s) beyond etcd.backupsToKeep=${inventory.etcd.backupsToKeep}: ${removed.join(', ')}`,
      );
    return { name, dir, manifest, durationMs: Math.round(performance.now() - started) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Saves a snapshot on the member and copies it here; returns the sha256 of the original. */
async function saveAndFetch(
  conn: SshConnection,
  remote: string,
  local: string,
  signal: AbortSignal,
): Promise<string> {
  try {
    const saved = await conn.run(
      [
        'sh',
        '-c',
        // A copy of every Secret: a private directory, and no copy left there by a killed run.
        sh`mkdir -p -m 700 ${REMOTE_DIR} && chmod 700 ${REMOTE_DIR} && rm -f ${REMOTE_DIR}/snapshot-*.db* && ${snapshotSaveArgv(remote)} >/dev/null && sha256sum ${remote}`,
      ],
      { signal, hint: `is ${REMOTE_DIR} on ${conn.target.name} out of space? (df -h ${REMOTE_DIR})` },
    );
    await fetchRemoteFile(conn, remote, local, signal);
    return saved.stdout.trim().split(/\s+/)[0] ?? '';
  } finally {
    await conn.exec(['rm', '-f', remote]).catch(() => undefined);
  }
}
