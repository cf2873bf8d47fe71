import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  type Bootstrap,
  etcdctl,
  etcdMembers,
  LOCAL_ENDPOINT,
  PEER_PORT,
  waitHealthyScript,
} from '../components/etcd.js';
import { HostPool } from '../engine/pool.js';
import { runPlaybook } from '../engine/runner.js';
import { InputError, OperationError } from '../errors.js';
import { backupName } from '../etcd/backups.js';
import { memberHealth, parseEtcdJson } from '../etcd/ops.js';
import { removalRefusal } from '../etcd/quorum.js';
import { removeRole } from '../inventory/edit.js';
import { loadInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';
import { plainRenderer } from '../render/plain.js';
import { JOINING } from '../steps/etcd.js';
import { STEPS } from '../steps/index.js';
import { sh } from '../transport/quote.js';
import type { ExecResult, SshConnection } from '../transport/ssh.js';
import { takeBackup } from './backup.js';
import type { Cluster } from './context.js';

export interface MembershipOptions {
  force?: boolean;
  purge?: boolean;
  becomePassword?: string;
  signal?: AbortSignal;
  say: (line: string) => void;
}

const memberSchema = z
  .object({
    ID: z.union([z.number(), z.string()]).transform(String),
    name: z.string().optional().default(''),
    peerURLs: z.array(z.string()).default([]),
    isLearner: z.boolean().optional(),
  })
  .loose();
const listSchema = z.object({ members: z.array(memberSchema) });
const addSchema = z.object({ member: memberSchema, members: z.array(memberSchema) }).loose();
type Member = z.output<typeof memberSchema>;

/** etcd prints member IDs as decimal in JSON; etcdctl takes them in hex. */
const hexId = (id: string) => BigInt(id).toString(16);

async function members(conn: SshConnection, signal?: AbortSignal): Promise<Member[]> {
  const { stdout } = await conn.run(etcdctl(LOCAL_ENDPOINT, 'member', 'list', '-w', 'json'), { signal });
  return listSchema.parse(parseEtcdJson(stdout)).members;
}

/** Runs the etcd setup step on some hosts, reporting to stderr. */
async function etcdStep(
  cluster: Cluster,
  only: string[],
  options: MembershipOptions,
  shared?: Map<string, unknown>,
): Promise<void> {
  const loaded = await loadInventory(cluster.loaded.file);
  const renderer = plainRenderer(process.stderr);
  const summary = await runPlaybook({
    command: 'etcd',
    loaded,
    clusterDir: cluster.paths.dir,
    knownHostsFile: cluster.paths.knownHosts,
    entries: [{ step: 'etcd', hosts: 'etcd' }],
    registry: STEPS,
    sink: renderer.sink,
    signal: options.signal,
    only,
    becomePassword: options.becomePassword,
    shared,
  });
  if (summary.failed)
    throw new OperationError(
      `the etcd step failed on ${summary.hosts
        .filter((h) => h.status === 'failed')
        .map((h) => `${h.host}: ${h.error?.message}`)
        .join('; ')}`,
    );
}

async function connect(cluster: Cluster, hosts: HostSpec[], options: MembershipOptions): Promise<HostPool> {
  return HostPool.connect(cluster.loaded, hosts, {
    knownHostsFile: cluster.paths.knownHosts,
    concurrency: hosts.length,
    becomePassword: options.becomePassword,
    signal: options.signal,
  });
}

/**
 * Adds inventory etcd hosts that are not members yet, one at a time: a snapshot first; each
 * joins as a learner with the membership of that moment, is promoted once caught up, and is
 * healthy before the next; then every member's unit is re-rendered, one restart at a time.
 */
export async function addEtcd(cluster: Cluster, names: string[], options: MembershipOptions): Promise<void> {
  const inventory = cluster.loaded.inventory;
  const wanted = etcdMembers(inventory);
  const missingRole = names.filter((n) => !wanted.some((h) => h.name === n));
  if (missingRole.length)
    throw new InputError(
      `give ${missingRole.join(', ')} the etcd role in ${cluster.loaded.file} first, then run add-etcd (the inventory stays the source of truth)`,
    );
  const pool = await connect(cluster, wanted, options);
  try {
    const existing = wanted.filter((h) => !names.includes(h.name) && pool.has(h.name));
    if (existing.length === 0) throw new OperationError('no current etcd member answers SSH');
    const health = await memberHealth(pool.get(existing[0]!.name), inventory, options.signal);
    const anchor = existing.find((h) => health.get(h.name));
    if (!anchor)
      throw new OperationError('no current etcd member is healthy; repair the cluster before adding members');
    const current = await members(pool.get(anchor.name), options.signal);
    const voting = (n: string) => current.some((m) => m.name === n && !m.isLearner);
    const joining = names.filter((n) => !voting(n));
    for (const n of names.filter((x) => voting(x))) options.say(`${n} is already a voting member: skipped`);
    if (joining.length === 0) return;
    const unreachable = joining.filter((n) => !pool.has(n));
    if (unreachable.length) {
      throw new OperationError(
        `cannot reach ${unreachable.join(', ')} over SSH: ${unreachable.map((n) => pool.failures.get(n)?.message).join('; ')}`,
      );
    }
    await snapshotFirst(cluster, `before add-etcd ${joining.join(' ')}`, options);
    const conn = pool.get(anchor.name);
    for (const name of joining) {
      const host = wanted.find((h) => h.name === name)!;
      let id = current.find((m) => m.name === name)?.ID;
      if (id) options.say(`${name} is a learner from an earlier run: promoting it`);
      else {
        const peer = `--peer-urls=https://${host.address}:${PEER_PORT}`;
        // etcd refuses a new member until the last one has been up for a few seconds: wait and retry.
        await untilHealthy(conn, options);
        const add = await retrying(
          conn,
          etcdctl(LOCAL_ENDPOINT, 'member', 'add', name, peer, '--learner', '-w', 'json'),
          options,
        );
        const added = addSchema.parse(parseEtcdJson(add.stdout));
        id = added.member.ID;
        const initialCluster = added.members
          .map((m) => `${m.ID === added.member.ID ? name : m.name}=${m.peerURLs[0]}`)
          .join(',');
        options.say(`${name} added as a learner; starting it with --initial-cluster-state=existing`);
        const join = new Map<string, Bootstrap>([[name, { initialCluster, state: 'existing' }]]);
        await etcdStep(cluster, [name], options, new Map([[JOINING, join]]));
      }
      await promote(conn, name, id, options);
    }
    await etcdStep(
      cluster,
      wanted.map((h) => h.name),
      options,
    );
  } finally {
    pool.close();
  }
}

async function snapshotFirst(cluster: Cluster, note: string, options: MembershipOptions): Promise<void> {
  const snapshot = await takeBackup(cluster, {
    note,
    becomePassword: options.becomePassword,
    signal: options.signal,
    say: options.say,
  });
  options.say(`snapshot taken: ${snapshot.name}`);
}

async function untilHealthy(conn: SshConnection, options: MembershipOptions): Promise<void> {
  const result = await conn.exec(['sh', '-c', waitHealthyScript(60)], { signal: options.signal });
  if (result.exitCode !== 0)
    throw new OperationError(
      `etcd on ${conn.target.name} is not healthy; stopped before changing membership further`,
    );
}

/** Runs a membership command, retrying for up to 30 s while the cluster settles (leader election). */
async function retrying(
  conn: SshConnection,
  argv: string[],
  options: MembershipOptions,
): Promise<ExecResult> {
  const until = Date.now() + 30_000;
  for (;;) {
    const result = await conn.exec(argv, { signal: options.signal });
    if (result.exitCode === 0) return result;
    if (Date.now() > until)
      throw new OperationError(
        `${conn.target.name}: ${argv.slice(-3).join(' ')} failed: ${result.stderr.trim().split('\n').pop()}`,
      );
    await sleep(1000);
  }
}

/** Promotes a learner once it has caught up with the leader (etcd refuses before that). */
async function promote(
  conn: SshConnection,
  name: string,
  id: string,
  options: MembershipOptions,
): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const result = await conn.exec(etcdctl(LOCAL_ENDPOINT, 'member', 'promote', hexId(id)), {
      signal: options.signal,
    });
    if (result.exitCode === 0) break;
    if (Date.now() > until)
      throw new OperationError(
        `${name} did not catch up with the leader within 60 s: ${result.stderr.trim()}`,
      );
    await sleep(500);
  }
  options.say(`${name} promoted to a voting member`);
}

/**
 * Removes members one at a time after the quorum guard: a snapshot first; `member remove`;
 * etcd stopped and disabled on the host, its data moved aside (or purged); the inventory
 * loses the role (a copy of the old one is kept); the remaining members are re-rendered.
 */
export async function delEtcd(
  cluster: Cluster,
  names: string[],
  options: MembershipOptions,
): Promise<{ inventoryBackup: string }> {
  const inventory = cluster.loaded.inventory;
  const all = etcdMembers(inventory);
  const remaining = all.filter((h) => !names.includes(h.name));
  if (remaining.length === 0)
    throw new InputError('del-etcd refused: it would leave no etcd member: the cluster would be gone');
  const pool = await connect(cluster, all, options);
  try {
    const reachable = remaining.filter((h) => pool.has(h.name));
    if (reachable.length === 0) throw new OperationError('no remaining etcd member answers SSH');
    const health = await memberHealth(pool.get(reachable[0]!.name), inventory, options.signal);
    const anchor = reachable.find((h) => health.get(h.name));
    if (!anchor)
      throw new OperationError('no remaining etcd member is healthy; nothing can be removed safely');
    const current = await members(pool.get(anchor.name), options.signal);
    const healthy = new Set([...health].filter(([, ok]) => ok).map(([n]) => n));
    const notInInventory = names.filter((n) => !all.some((h) => h.name === n));
    if (notInInventory.length)
      throw new InputError(
        `del-etcd refused: ${notInInventory.join(', ')} ${notInInventory.length === 1 ? 'is' : 'are'} not an etcd host in ${cluster.loaded.file}`,
      );
    // Hosts already out of the membership (an earlier, interrupted run) only need the inventory updated.
    const toRemove = names.filter((n) => current.some((m) => m.name === n));
    for (const n of names.filter((x) => !toRemove.includes(x)))
      options.say(`${n} is no longer an etcd member: only the inventory is updated`);
    const refusal = removalRefusal({
      members: current.map((m) => m.name),
      healthy,
      remove: toRemove,
      force: options.force ?? false,
    });
    if (refusal) throw new InputError(`del-etcd refused: ${refusal}`);
    await snapshotFirst(cluster, `before del-etcd ${names.join(' ')}`, options);
    const stamp = backupName();
    const order = [...toRemove].sort((a, b) => Number(healthy.has(a)) - Number(healthy.has(b)));
    for (const name of order) {
      const member = current.find((m) => m.name === name)!;
      // A removal can cost the cluster its leader: wait for health, and retry while it elects a new one.
      await untilHealthy(pool.get(anchor.name), options);
      await retrying(
        pool.get(anchor.name),
        etcdctl(LOCAL_ENDPOINT, 'member', 'remove', hexId(member.ID)),
        options,
      );
      options.say(`${name} removed from the cluster`);
      if (!pool.has(name)) {
        options.say(
          `${name} is unreachable: stop etcd and move ${inventory.etcd.dataDir} aside there by hand`,
        );
        continue;
      }
      const { dataDir, walDir } = inventory.etcd;
      const keep = (dir: string) =>
        options.purge
          ? sh`rm -rf ${dir}`
          : sh`if [ -e ${dir} ]; then mv ${dir} ${`${dir}.removed-${stamp}`}; fi`;
      await pool
        .get(name)
        .run(
          [
            'sh',
            '-c',
            ['systemctl disable --now etcd', keep(dataDir), ...(walDir ? [keep(walDir)] : [])].join('\n'),
          ],
          { signal: options.signal },
        );
      options.say(
        `${name}: etcd stopped and disabled, data ${options.purge ? 'purged' : `kept at ${dataDir}.removed-${stamp}`}`,
      );
    }
    const inventoryBackup = await removeRole(cluster.loaded.file, names, 'etcd', stamp);
    options.say(`inventory updated; the previous one is at ${inventoryBackup}`);
    await etcdStep(
      cluster,
      remaining.map((h) => h.name),
      options,
    );
    return { inventoryBackup };
  } finally {
    pool.close();
  }
}
