import { join } from 'node:path';
import { sha256File } from '../artifacts/bundle.js';
import { archOf } from '../artifacts/catalog.js';
import { resolveArtifactFiles } from '../artifacts/resolve.js';
import { etcdMembers, waitHealthyScript } from '../components/etcd.js';
import { HostPool } from '../engine/pool.js';
import { InputError, OperationError } from '../errors.js';
import { type Backup, backupName, listBackups, readBackup } from '../etcd/backups.js';
import { localSnapshotStatus } from '../etcd/local-tool.js';
import { liveState, snapshotRestoreArgv } from '../etcd/ops.js';
import { cacheDir } from '../home.js';
import { sh } from '../transport/quote.js';
import { takeBackup } from './backup.js';
import type { Cluster } from './context.js';

/** Finds the backup and refuses it, before any host is touched, unless it fits this cluster and is intact. */
export async function checkBackup(cluster: Cluster, selector: string, force: boolean): Promise<Backup> {
  const { inventory, file } = cluster.loaded;
  let backup: Backup;
  if (selector === 'latest') {
    const latest = (await listBackups(cluster.paths.backups))[0];
    if (!latest)
      throw new InputError(
        `no backups in ${cluster.paths.backups}; take one with: kubesmith backup ${inventory.cluster.name}`,
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

export interface RestoreOptions {
  backup: Backup;
  becomePassword?: string;
  signal?: AbortSignal;
  say: (line: string) => void;
}

export interface RestoreResult {
  keptAside: string[];
  safetyBackup?: string;
  revision: number;
  keyCount: number;
}

/**
 * Restores every member from the snapshot: a safety snapshot first when the cluster still
 * answers; apiservers and etcd stopped; each member restored into a new data dir with its
 * own name and the full initial cluster; the old data (and WAL) moved aside, never deleted;
 * all members started together; health, revision and key count checked; apiservers back.
 */
export async function restoreCluster(cluster: Cluster, options: RestoreOptions): Promise<RestoreResult> {
  const { inventory, file } = cluster.loaded;
  const { backup, say, signal } = options;
  const members = etcdMembers(inventory);
  const masters = inventory.hosts.filter((h) => h.roles.includes('master'));
  const involved = inventory.hosts.filter((h) => members.includes(h) || masters.includes(h));
  const pool = await HostPool.connect(cluster.loaded, involved, {
    knownHostsFile: cluster.paths.knownHosts,
    concurrency: involved.length,
    becomePassword: options.becomePassword,
    signal,
  });
  try {
    if (pool.failures.size)
      throw new OperationError(
        `cannot restore while hosts are unreachable: ${[...pool.failures].map(([h, e]) => `${h}: ${e.message}`).join('; ')}`,
      );
    let safetyBackup: string | undefined;
    try {
      safetyBackup = (
        await takeBackup(cluster, {
          note: `safety snapshot before restoring ${backup.name}`,
          prune: false,
          becomePassword: options.becomePassword,
          signal,
          say,
        })
      ).name;
      say(`safety snapshot taken: ${safetyBackup}`);
    } catch (error) {
      say(`no safety snapshot (the cluster does not answer: ${(error as Error).message})`);
    }
    const stamp = backupName();
    const arch = archOf(pool.machines.get(members[0]!.name) ?? 'x86_64');
    const installed = await resolveArtifactFiles(inventory, file, ['bin/etcd'], {
      arch,
      cacheDir: cacheDir(),
      signal,
    });
    const version = installed.get('bin/etcd')?.version ?? backup.manifest.etcdVersion;
    const stoppedApiservers: string[] = [];
    await Promise.all(
      masters.map(async (h) => {
        const r = await pool
          .get(h.name)
          .run(
            [
              'sh',
              '-c',
              'if systemctl is-active -q kube-apiserver 2>/dev/null; then systemctl stop kube-apiserver && echo stopped; fi',
            ],
            { signal },
          );
        if (r.stdout.includes('stopped')) stoppedApiservers.push(h.name);
      }),
    );
    await Promise.all(members.map((m) => pool.get(m.name).run(['systemctl', 'stop', 'etcd'], { signal })));
    say(
      `etcd stopped on ${members.length} member(s)${stoppedApiservers.length ? `, kube-apiserver on ${stoppedApiservers.join(', ')}` : ''}`,
    );
    const { dataDir, walDir } = inventory.etcd;
    const keptAside: string[] = [];
    await Promise.all(
      members.map(async (m) => {
        const conn = pool.get(m.name);
        const remote = '/var/lib/kubesmith-restore/snapshot.db';
        await conn.run(['mkdir', '-p', '/var/lib/kubesmith-restore'], { signal });
        await conn.upload({ localPath: join(backup.dir, backup.manifest.snapshot.file) }, remote, {
          mode: 0o600,
          signal,
        });
        const fresh = `${dataDir}.restore-${stamp}`;
        const freshWal = walDir ? `${walDir}.restore-${stamp}` : undefined;
        const aside = `${dataDir}.before-restore-${stamp}`;
        const asideWal = walDir ? `${walDir}.before-restore-${stamp}` : undefined;
        const lines = [
          'set -e',
          sh`rm -rf ${fresh}`,
          ...(freshWal ? [sh`rm -rf ${freshWal}`] : []),
          sh`ETCDCTL_API=3 ${snapshotRestoreArgv(version, remote, m, inventory, fresh, freshWal)} >/dev/null`,
          sh`if [ -e ${dataDir} ]; then mv ${dataDir} ${aside}; fi`,
          sh`mv ${fresh} ${dataDir} && chmod 700 ${dataDir}`,
          ...(walDir && freshWal && asideWal
            ? [
                sh`if [ -e ${walDir} ]; then mv ${walDir} ${asideWal}; fi`,
                sh`mv ${freshWal} ${walDir} && chmod 700 ${walDir}`,
              ]
            : []),
          sh`rm -f ${remote}`,
        ];
        await conn.run(['sh', '-c', lines.join('\n')], {
          signal,
          hint: 'the old data is still in place or moved aside; nothing was deleted',
        });
        keptAside.push(`${m.name}:${aside}${asideWal ? ` and ${asideWal}` : ''}`);
      }),
    );
    await Promise.all(
      members.map((m) => pool.get(m.name).run(['systemctl', 'start', '--no-block', 'etcd'], { signal })),
    );
    await Promise.all(
      members.map(async (m) => {
        const r = await pool.get(m.name).exec(['sh', '-c', waitHealthyScript(90)], { signal });
        if (r.exitCode !== 0)
          throw new OperationError(
            `etcd on ${m.name} did not become healthy after the restore; the previous data is at ${dataDir}.before-restore-${stamp}`,
          );
      }),
    );
    const live = await liveState(pool.get(members[0]!.name), signal);
    if (live.revision !== backup.manifest.revision || live.keyCount !== backup.manifest.keyCount) {
      throw new OperationError(
        `restored etcd has revision ${live.revision} and ${live.keyCount} keys; the backup has ${backup.manifest.revision} and ${backup.manifest.keyCount}`,
      );
    }
    await Promise.all(
      stoppedApiservers.map((h) => pool.get(h).run(['systemctl', 'start', 'kube-apiserver'], { signal })),
    );
    return { keptAside: keptAside.sort(), safetyBackup, revision: live.revision, keyCount: live.keyCount };
  } finally {
    pool.close();
  }
}
