import { join } from 'node:path';
import { sha256File } from '../artifacts/bundle.js';
import { archOf } from '../artifacts/catalog.js';
import { resolveArtifactFiles } from '../artifacts/resolve.js';
import { etcdMembers, waitHealthyScript } from '../components/etcd.js';
import { HostPool } from '../engine/pool.js';
import {
  errorMessage,
  InputError,
  InterruptedError,
  NoHealthyMemberError,
  OperationError,
  SshError,
  unreachableHosts,
} from '../errors.js';
import { type Backup, backupName, latestBackup, readBackup } from '../etcd/backups.js';
import {
  dirsOf,
  prepareRestoreScript,
  restorePaths,
  swapBackScript,
  swapInScript,
} from '../etcd/data-swap.js';
import { localSnapshotStatus } from '../etcd/local-tool.js';
import { keyCountAt, liveState } from '../etcd/ops.js';
import { judgeRestore } from '../etcd/restore-check.js';
import { cacheDir } from '../home.js';
import type { HostSpec } from '../inventory/schema.js';
import { sh } from '../transport/quote.js';
import { takeBackup } from './backup.js';
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

const REMOTE_DIR = '/var/lib/kubesmith-restore';
const REMOTE_SNAPSHOT = `${REMOTE_DIR}/snapshot.db`;

/** Runs `fn` on every host to the end (no fail-fast), and returns each host's error. */
async function onEvery(
  hosts: readonly HostSpec[],
  fn: (host: HostSpec) => Promise<unknown>,
): Promise<Map<string, Error>> {
  const results = await Promise.allSettled(hosts.map(fn));
  const failed = new Map<string, Error>();
  results.forEach((r, i) => {
    if (r.status === 'rejected') failed.set(hosts[i]!.name, r.reason as Error);
  });
  return failed;
}

function listed(failed: ReadonlyMap<string, Error>): string {
  return [...failed].map(([host, e]) => `${host}: ${errorMessage(e)}`).join('; ');
}

/**
 * Restores every member from the snapshot, all or nothing:
 * 1. a safety snapshot when the cluster answers (marked, so `restore latest` skips it); any
 *    other failure of it stops the restore before anything changed;
 * 2. apiservers, then etcd stopped on every member;
 * 3. only then the snapshot uploaded (checked by sha256) and restored into a fresh directory
 *    inside each data dir, beside the current data;
 * 4. on every member `<dataDir>/member` (and the WAL files) swapped with the restored ones, by
 *    renames inside the directories (a data dir may be a mount point);
 * 5. etcd started on all, health, revision and key count (at the backup's revision) checked.
 * A failure before 5 puts the old data back everywhere and starts etcd again; apiservers are
 * started again whatever happens. Each run uses a new stamp, so a failed restore can be re-run.
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
    if (pool.failures.size) throw unreachableHosts(pool.failures, 'restore');
    const arch = archOf(pool.machines.get(members[0]!.name) ?? 'x86_64');
    const installed = await resolveArtifactFiles(inventory, file, ['bin/etcd'], {
      arch,
      cacheDir: cacheDir(),
      signal,
    });
    const version = installed.get('bin/etcd')?.version ?? backup.manifest.etcdVersion;
    const safetyBackup = await safetySnapshot(cluster, pool, options);
    const run = (host: string, script: string, useSignal = true) =>
      pool.get(host).run(['sh', '-c', script], useSignal ? { signal } : {});
    const stoppedApiservers: string[] = [];
    try {
      const apiFailed = await onEvery(masters, async (h) => {
        const r = await run(
          h.name,
          'if systemctl is-active -q kube-apiserver 2>/dev/null; then systemctl stop kube-apiserver && echo stopped; fi',
        );
        if (r.stdout.includes('stopped')) stoppedApiservers.push(h.name);
      });
      if (apiFailed.size) throw new OperationError(`could not stop kube-apiserver: ${listed(apiFailed)}`);
      const result = await replaceData(cluster, pool, options, version);
      return { ...result, safetyBackup };
    } finally {
      const apiBack = await onEvery(
        masters.filter((h) => stoppedApiservers.includes(h.name)),
        (h) => run(h.name, 'systemctl start kube-apiserver', false),
      );
      if (apiBack.size) say(`could not start kube-apiserver again: ${listed(apiBack)}; start it by hand`);
      else if (stoppedApiservers.length)
        say(`kube-apiserver started again on ${stoppedApiservers.join(', ')}`);
    }
  } finally {
    pool.close();
  }
}

/** The safety snapshot's name, or undefined when no member answers; any other failure stops the restore. */
async function safetySnapshot(
  cluster: Cluster,
  pool: HostPool,
  options: RestoreOptions,
): Promise<string | undefined> {
  try {
    const taken = await takeBackup(cluster, {
      note: `safety snapshot before restoring ${options.backup.name}`,
      prune: false,
      safety: true,
      pool,
      becomePassword: options.becomePassword,
      signal: options.signal,
      say: options.say,
    });
    options.say(`safety snapshot taken: ${taken.name}`);
    return taken.name;
  } catch (error) {
    if (error instanceof NoHealthyMemberError) {
      options.say(`no safety snapshot: the cluster does not answer (${error.message})`);
      return undefined;
    }
    if (error instanceof InterruptedError || error instanceof SshError) throw error;
    throw new OperationError(
      `the safety snapshot failed, so the restore stopped before changing anything: ${errorMessage(error)}`,
      'fix the cause (disk space on the deploy machine or the member, etcd health) and run restore again',
      { cause: error },
    );
  }
}

async function replaceData(
  cluster: Cluster,
  pool: HostPool,
  options: RestoreOptions,
  version: string,
): Promise<Omit<RestoreResult, 'safetyBackup'>> {
  const { inventory } = cluster.loaded;
  const { backup, say, signal } = options;
  const members = etcdMembers(inventory);
  const dirs = dirsOf(inventory);
  const stamp = backupName();
  const run = (host: string, script: string, useSignal = true) =>
    pool.get(host).run(['sh', '-c', script], useSignal ? { signal } : {});
  const startEtcd = () => onEvery(members, (m) => run(m.name, 'systemctl start --no-block etcd', false));
  const waitHealthy = () =>
    onEvery(members, async (m) => {
      const r = await pool.get(m.name).exec(['sh', '-c', waitHealthyScript(90)]);
      if (r.exitCode !== 0) throw new OperationError('etcd did not become healthy within 90 s');
    });
  /** Puts the old data back on every member and starts etcd; says how that went. */
  const recover = async (): Promise<string> => {
    await onEvery(members, (m) => run(m.name, 'systemctl stop etcd', false));
    const back = await onEvery(members, (m) => run(m.name, swapBackScript(dirs, stamp), false));
    await onEvery(members, (m) => run(m.name, sh`rm -f ${REMOTE_SNAPSHOT}`, false));
    if (back.size)
      return `putting the old data back failed (${listed(back)}); etcd left stopped: see ${restorePaths(dirs, stamp).asideMember} on those members`;
    const started = await startEtcd();
    const healthy = started.size ? started : await waitHealthy();
    return healthy.size
      ? `the old data is back, but etcd is not healthy on ${listed(healthy)}`
      : 'the old data is back and etcd is serving again';
  };
  const stopped = await onEvery(members, (m) => run(m.name, 'systemctl stop etcd'));
  if (stopped.size)
    throw new OperationError(
      `could not stop etcd: ${listed(stopped)}; nothing was replaced; ${await recover()}`,
    );
  say(`etcd stopped on ${members.length} member(s)`);
  const local = join(backup.dir, backup.manifest.snapshot.file);
  const prepared = await onEvery(members, async (m) => {
    const conn = pool.get(m.name);
    await conn.run(['mkdir', '-p', REMOTE_DIR], { signal });
    await conn.upload({ localPath: local }, REMOTE_SNAPSHOT, { mode: 0o600, signal });
    const sum = await conn.run(['sha256sum', REMOTE_SNAPSHOT], { signal });
    if (sum.stdout.split(/\s+/)[0] !== backup.manifest.snapshot.sha256)
      throw new OperationError('the uploaded snapshot differs from the backup (sha256)');
    await conn.run(['sh', '-c', prepareRestoreScript(dirs, stamp, version, REMOTE_SNAPSHOT, m, inventory)], {
      signal,
    });
  });
  if (prepared.size)
    throw new OperationError(
      `could not prepare the restored data: ${listed(prepared)}; nothing was replaced; ${await recover()}`,
    );
  const swapped = await onEvery(members, (m) => run(m.name, swapInScript(dirs, stamp), false));
  if (swapped.size)
    throw new OperationError(`could not swap the restored data in: ${listed(swapped)}; ${await recover()}`);
  await onEvery(members, (m) => run(m.name, sh`rm -f ${REMOTE_SNAPSHOT}`, false));
  const started = await startEtcd();
  const unhealthy = started.size ? started : await waitHealthy();
  if (unhealthy.size)
    throw new OperationError(
      `the restored etcd is not healthy: ${listed(unhealthy)}; ${await recover()}`,
      'see journalctl -u etcd on those members',
    );
  const conn = pool.get(members[0]!.name);
  const live = await liveState(conn);
  const m = backup.manifest;
  const counted = m.revision === 0 ? 0 : await keyCountAt(conn, m.revision);
  const verdict = judgeRestore({ revision: live.revision, keyCountAtBackupRevision: counted }, m);
  const p = restorePaths(dirs, stamp);
  const keptAside = members.map((h) => `${h.name}:${p.asideMember}${p.asideWal ? ` and ${p.asideWal}` : ''}`);
  if (verdict.note) say(`note: ${verdict.note}`);
  if (verdict.mismatch)
    throw new OperationError(
      `${verdict.mismatch}; etcd is serving the restored data, the previous data is kept at ${keptAside.join(', ')}`,
    );
  return { keptAside: keptAside.sort(), revision: live.revision, keyCount: counted };
}
