import { join } from 'node:path';
import { waitHealthyScript } from '../components/etcd.js';
import { errorMessage, OperationError } from '../errors.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { sh } from '../transport/quote.js';
import type { SshConnection } from '../transport/ssh.js';
import type { Backup } from './backups.js';
import { dirsOf, prepareRestoreScript, restorePaths, swapBackScript, swapInScript } from './data-swap.js';

/** Runs `fn` on every host to the end (no fail-fast), and returns each host's error. */
export async function onEvery(
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

export function listed(failed: ReadonlyMap<string, Error>): string {
  return [...failed].map(([host, e]) => `${host}: ${errorMessage(e)}`).join('; ');
}

export interface DataReplacement {
  inventory: Inventory;
  members: readonly HostSpec[];
  conn(host: string): SshConnection;
  backup: Backup;
  /** Names this run's pieces on the members (each run its own: a failed restore can be re-run). */
  stamp: string;
  /** The etcd version whose offline tool restores the snapshot. */
  toolVersion: string;
  signal: AbortSignal;
  say(line: string): void;
  /** Counts a change on a member. */
  changed(host: string): void;
}

const REMOTE_DIR = '/var/lib/kubesmith-restore';
const REMOTE_SNAPSHOT = `${REMOTE_DIR}/snapshot.db`;

/**
 * Replaces every member's data with the snapshot, all or nothing: etcd stopped on every member;
 * only then the snapshot uploaded (checked by sha256) and restored into a fresh directory inside
 * each data dir; on every member `<dataDir>/member` (and the WAL files) swapped with the restored
 * ones, by renames inside the directories (a data dir may be a mount point); etcd started on all
 * and healthy. A failure on any member puts the old data back everywhere and starts etcd again.
 */
export async function replaceData(r: DataReplacement): Promise<void> {
  const { members, backup, stamp, signal, say } = r;
  const dirs = dirsOf(r.inventory);
  const run = (host: string, script: string, useSignal = true) =>
    r.conn(host).run(['sh', '-c', script], useSignal ? { signal } : {});
  const startEtcd = () => onEvery(members, (m) => run(m.name, 'systemctl start --no-block etcd', false));
  const waitHealthy = () =>
    onEvery(members, async (m) => {
      const result = await r.conn(m.name).exec(['sh', '-c', waitHealthyScript(90)]);
      if (result.exitCode !== 0) throw new OperationError('etcd did not become healthy within 90 s');
    });
  /** Puts the old data back on every member and starts etcd; says how that went. */
  const recover = async (): Promise<string> => {
    await onEvery(members, (m) => run(m.name, 'systemctl stop etcd', false));
    const back = await onEvery(members, (m) => run(m.name, swapBackScript(dirs, stamp), false));
    await onEvery(members, (m) => run(m.name, sh`rm -f ${REMOTE_SNAPSHOT}`, false));
    if (back.size) {
      const withOldData = members.filter((m) => !back.has(m.name));
      const stuck = `putting the old data back failed (${listed(back)}); etcd left stopped there: see ${restorePaths(dirs, stamp).asideMember} on those members`;
      // The members whose old data is back still form a cluster if they are a majority: serve.
      if (withOldData.length <= members.length / 2)
        return `${stuck}; too few members have their old data back for a quorum, so etcd stays stopped everywhere`;
      const started = await onEvery(withOldData, (m) =>
        run(m.name, 'systemctl start --no-block etcd', false),
      );
      return `${stuck}; ${withOldData.length - started.size} member(s) with their old data back were started again`;
    }
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
    const conn = r.conn(m.name);
    // A copy of every Secret: a private directory, and nothing left there by a killed run.
    await conn.run(
      [
        'sh',
        '-c',
        sh`mkdir -p -m 700 ${REMOTE_DIR} && chmod 700 ${REMOTE_DIR} && rm -f ${REMOTE_DIR}/*.db ${REMOTE_DIR}/.*.kubesmith-*`,
      ],
      { signal },
    );
    await conn.upload({ localPath: local }, REMOTE_SNAPSHOT, { mode: 0o600, signal });
    const sum = await conn.run(['sha256sum', REMOTE_SNAPSHOT], { signal });
    if (sum.stdout.split(/\s+/)[0] !== backup.manifest.snapshot.sha256)
      throw new OperationError('the uploaded snapshot differs from the backup (sha256)');
    const script = prepareRestoreScript(dirs, stamp, r.toolVersion, REMOTE_SNAPSHOT, m, r.inventory);
    await conn.run(['sh', '-c', script], { signal });
  });
  if (prepared.size)
    throw new OperationError(
      `could not prepare the restored data: ${listed(prepared)}; nothing was replaced; ${await recover()}`,
    );
  const swapped = await onEvery(members, (m) => run(m.name, swapInScript(dirs, stamp), false));
  for (const m of members) r.changed(m.name);
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
}
