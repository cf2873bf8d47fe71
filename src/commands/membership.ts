import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Bootstrap,
  etcdctl,
  etcdMembers,
  LOCAL_ENDPOINT,
  waitHealthyScript,
} from '../components/etcd.js';
import { HostPool } from '../engine/pool.js';
import { runPlaybook } from '../engine/runner.js';
import { InputError, OperationError, unreachableHosts } from '../errors.js';
import { backupName } from '../etcd/backups.js';
import { dirsOf, retiredPaths, retireMemberScript } from '../etcd/data-swap.js';
import {
  hexId,
  joinAction,
  joiningInitialCluster,
  type Member,
  memberAddSchema,
  memberLabel,
  memberListSchema,
  memberOf,
  strangers,
} from '../etcd/members.js';
import { memberHealth, parseEtcdJson, peerUrl } from '../etcd/ops.js';
import { removalRefusal } from '../etcd/quorum.js';
import { replaceInventory, withoutRole } from '../inventory/edit.js';
import { type LoadedInventory, parseInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';
import { plainRenderer } from '../render/plain.js';
import { JOINING } from '../steps/etcd.js';
import { STEPS } from '../steps/index.js';
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

async function members(conn: SshConnection, signal?: AbortSignal): Promise<Member[]> {
  const { stdout } = await conn.run(etcdctl(LOCAL_ENDPOINT, 'member', 'list', '-w', 'json'), { signal });
  return memberListSchema.parse(parseEtcdJson(stdout)).members;
}

/**
 * Runs the etcd setup step on some hosts, reporting to stderr, with an inventory validated
 * before any membership change (never re-read from disk half-way: its rules were checked with
 * the command's own options, --allow-even-etcd included).
 */
async function etcdStep(
  cluster: Cluster,
  loaded: LoadedInventory,
  only: string[],
  options: MembershipOptions,
  shared?: Map<string, unknown>,
): Promise<void> {
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

/** A healthy member among `candidates` to run membership commands on, with the member list it reads. */
async function anchorOf(
  cluster: Cluster,
  pool: HostPool,
  candidates: HostSpec[],
  options: MembershipOptions,
): Promise<{ anchor: HostSpec; current: Member[]; healthy: Set<string> }> {
  const reachable = candidates.filter((h) => pool.has(h.name));
  if (reachable.length === 0) throw unreachableHosts(pool.failures, 'reach any etcd member');
  const health = await memberHealth(pool.get(reachable[0]!.name), cluster.loaded.inventory, options.signal);
  const anchor = reachable.find((h) => health.get(h.name));
  if (!anchor)
    throw new OperationError('no etcd member is healthy; repair the cluster before changing its membership');
  const current = await members(pool.get(anchor.name), options.signal);
  const healthy = new Set([...health].filter(([, ok]) => ok).map(([n]) => n));
  return { anchor, current, healthy };
}

/**
 * Adds inventory etcd hosts that are not members yet, one at a time: everything is checked
 * first (roles, reachability, members the inventory does not know, learners left by an earlier
 * run), then a snapshot; each host joins as a learner with the membership of that moment, is
 * promoted once caught up, and is healthy before the next; then every member's unit is
 * re-rendered, one restart at a time. A learner an earlier run added but never started is
 * found by its peer URL and started, so a re-run finishes what a failed run began.
 */
export async function addEtcd(cluster: Cluster, names: string[], options: MembershipOptions): Promise<void> {
  const loaded = cluster.loaded;
  const wanted = etcdMembers(loaded.inventory);
  const missingRole = names.filter((n) => !wanted.some((h) => h.name === n));
  if (missingRole.length)
    throw new InputError(
      `give ${missingRole.join(', ')} the etcd role in ${loaded.file} first, then run add-etcd (the inventory stays the source of truth)`,
    );
  const pool = await connect(cluster, wanted, options);
  try {
    const existing = wanted.filter((h) => !names.includes(h.name));
    const { anchor, current } = await anchorOf(cluster, pool, existing, options);
    const unknown = strangers(current, wanted);
    if (unknown.length)
      throw new OperationError(
        `etcd has member(s) the inventory does not list: ${unknown.map((m) => `${m.name || '(not started)'} ${m.peerURLs.join(',')} (id ${hexId(m.ID)})`).join('; ')}; add their hosts to the inventory, or remove them with etcdctl member remove`,
      );
    const others = wanted.filter((h) => !names.includes(h.name));
    const pending = others.filter((h) => ['start', 'promote'].includes(joinAction(h, current)));
    if (pending.length)
      throw new OperationError(
        `${pending.map((h) => h.name).join(', ')} joined as learner(s) in an earlier add-etcd and ${pending.length === 1 ? 'is' : 'are'} not voting yet: run add-etcd ${pending.map((h) => h.name).join(' ')} first (etcd takes one learner at a time)`,
      );
    const outside = others.filter((h) => joinAction(h, current) === 'add');
    if (outside.length)
      throw new InputError(
        `${outside.map((h) => h.name).join(', ')} ${outside.length === 1 ? 'has' : 'have'} the etcd role but ${outside.length === 1 ? 'is' : 'are'} no member: name ${outside.length === 1 ? 'it' : 'them'} in add-etcd too`,
      );
    const hosts = names.map((n) => wanted.find((h) => h.name === n)!);
    for (const h of hosts.filter((x) => joinAction(x, current) === 'skip'))
      options.say(`${h.name} is already a voting member: skipped`);
    // Learners of an earlier run first: etcd takes one learner at a time.
    const order: Record<string, number> = { start: 0, promote: 0, add: 1 };
    const joining = hosts
      .filter((h) => joinAction(h, current) !== 'skip')
      .sort((a, b) => order[joinAction(a, current)]! - order[joinAction(b, current)]!);
    if (joining.length === 0) return;
    const unreachable = new Map([...pool.failures].filter(([h]) => joining.some((j) => j.name === h)));
    if (unreachable.size) throw unreachableHosts(unreachable, 'add them');
    await snapshotFirst(cluster, `before add-etcd ${joining.map((h) => h.name).join(' ')}`, options);
    const conn = pool.get(anchor.name);
    for (const host of joining) {
      const now = await members(conn, options.signal);
      const action = joinAction(host, now);
      let member = memberOf(host, now);
      if (action === 'add') {
        // etcd refuses a new member until the last one has been up for a few seconds: wait and retry.
        await untilHealthy(conn, options);
        const add = await retrying(
          conn,
          etcdctl(
            LOCAL_ENDPOINT,
            'member',
            'add',
            host.name,
            `--peer-urls=${peerUrl(host)}`,
            '--learner',
            '-w',
            'json',
          ),
          options,
        );
        const added = memberAddSchema.parse(parseEtcdJson(add.stdout));
        member = added.member;
        await startJoining(
          cluster,
          loaded,
          host,
          joiningInitialCluster(added.members, member, host.name),
          options,
        );
      } else if (action === 'start') {
        options.say(`${host.name} was added by an earlier run but never started: starting it`);
        await startJoining(cluster, loaded, host, joiningInitialCluster(now, member!, host.name), options);
      } else if (action === 'promote')
        options.say(`${host.name} is a learner from an earlier run: promoting it`);
      if (action === 'skip' || !member) continue;
      if (member.isLearner || action === 'add') await promote(conn, host.name, member.ID, options);
    }
    await etcdStep(
      cluster,
      loaded,
      wanted.map((h) => h.name),
      options,
    );
  } finally {
    pool.close();
  }
}

async function startJoining(
  cluster: Cluster,
  loaded: LoadedInventory,
  host: HostSpec,
  initialCluster: string,
  options: MembershipOptions,
): Promise<void> {
  options.say(`${host.name} added as a learner; starting it with --initial-cluster-state=existing`);
  const join = new Map<string, Bootstrap>([[host.name, { initialCluster, state: 'existing' }]]);
  await etcdStep(cluster, loaded, [host.name], options, new Map([[JOINING, join]]));
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

/** The inventory after the removal, validated now (before any member is removed). */
export async function inventoryWithout(
  cluster: Cluster,
  names: string[],
): Promise<{ text: string; next: LoadedInventory }> {
  const { file } = cluster.loaded;
  const text = withoutRole(await readFile(file, 'utf8'), names, 'etcd', file);
  // An even count is the quorum guard's call (refused unless --force), not the inventory's.
  const next = await parseInventory(text, file, { allowEvenEtcd: true }).catch((error: unknown) => {
    if (error instanceof InputError)
      throw new InputError(
        `del-etcd refused: the inventory without ${names.join(', ')} as etcd would not be valid`,
        error.problems,
        { cause: error },
      );
    throw error;
  });
  return { text, next };
}

/**
 * Removes members one at a time after every check (names, the inventory after the removal, the
 * quorum guard): a snapshot first; `member remove`; on the host, etcd stopped and disabled,
 * `<dataDir>/member` moved aside inside the data dir (or purged) and /etc/etcd/pki deleted;
 * the inventory loses the role (a copy of the old one is kept); the remaining members are
 * re-rendered. Members are matched by peer URL, so one added but never started is found too.
 */
export async function delEtcd(
  cluster: Cluster,
  names: string[],
  options: MembershipOptions,
): Promise<{ inventoryBackup: string }> {
  const inventory = cluster.loaded.inventory;
  const all = etcdMembers(inventory);
  const notInInventory = names.filter((n) => !all.some((h) => h.name === n));
  if (notInInventory.length)
    throw new InputError(
      `del-etcd refused: ${notInInventory.join(', ')} ${notInInventory.length === 1 ? 'is' : 'are'} not an etcd host in ${cluster.loaded.file}`,
    );
  const remaining = all.filter((h) => !names.includes(h.name));
  if (remaining.length === 0)
    throw new InputError('del-etcd refused: it would leave no etcd member: the cluster would be gone');
  const { text, next } = await inventoryWithout(cluster, names);
  const pool = await connect(cluster, all, options);
  try {
    const { anchor, current, healthy } = await anchorOf(cluster, pool, remaining, options);
    const leaving = names.map((n) => all.find((h) => h.name === n)!);
    // Hosts already out of the membership (an earlier, interrupted run) are only retired and dropped from the inventory.
    const toRemove = leaving.filter((h) => memberOf(h, current));
    for (const h of leaving.filter((x) => !toRemove.includes(x)))
      options.say(`${h.name} is no longer an etcd member: only retired and dropped from the inventory`);
    const refusal = removalRefusal({
      members: current.map((m) => memberLabel(m, all)),
      healthy,
      remove: toRemove.map((h) => h.name),
      force: options.force ?? false,
    });
    if (refusal) throw new InputError(`del-etcd refused: ${refusal}`);
    await snapshotFirst(cluster, `before del-etcd ${names.join(' ')}`, options);
    const stamp = backupName();
    const order = [...toRemove].sort((a, b) => Number(healthy.has(a.name)) - Number(healthy.has(b.name)));
    for (const host of order) {
      const member = memberOf(host, current)!;
      // A removal can cost the cluster its leader: wait for health, and retry while it elects a new one.
      await untilHealthy(pool.get(anchor.name), options);
      await retrying(
        pool.get(anchor.name),
        etcdctl(LOCAL_ENDPOINT, 'member', 'remove', hexId(member.ID)),
        options,
      );
      options.say(`${host.name} removed from the cluster`);
    }
    const dirs = dirsOf(inventory);
    for (const host of leaving) {
      if (!pool.has(host.name)) {
        options.say(
          `${host.name} is unreachable: there, stop and disable etcd, move ${dirs.dataDir}/member aside and delete /etc/etcd/pki (its keys are credentials) by hand`,
        );
        continue;
      }
      await pool.get(host.name).run(['sh', '-c', retireMemberScript(dirs, stamp, options.purge ?? false)], {
        signal: options.signal,
      });
      options.say(
        `${host.name}: etcd stopped and disabled, /etc/etcd/pki deleted, data ${options.purge ? 'purged' : `kept at ${retiredPaths(dirs, stamp).join(' and ')}`}`,
      );
    }
    const inventoryBackup = await replaceInventory(cluster.loaded.file, text, stamp);
    options.say(`inventory updated; the previous one is at ${inventoryBackup}`);
    await etcdStep(
      cluster,
      next,
      remaining.map((h) => h.name),
      options,
    );
    return { inventoryBackup };
  } finally {
    pool.close();
  }
}
