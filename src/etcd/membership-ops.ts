import { setTimeout as sleep } from 'node:timers/promises';
import { etcdctl, LOCAL_ENDPOINT, waitHealthyScript } from '../components/etcd.js';
import { OperationError } from '../errors.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import type { ExecResult, SshConnection } from '../transport/ssh.js';
import { hexId } from './members.js';
import { type Member, memberHealth, memberListSchema, parseEtcdJson } from './ops.js';

/** The member list, read from the member on `conn`. */
export async function listMembers(conn: SshConnection, signal?: AbortSignal): Promise<Member[]> {
  const { stdout } = await conn.run(etcdctl(LOCAL_ENDPOINT, 'member', 'list', '-w', 'json'), { signal });
  return memberListSchema.parse(parseEtcdJson(stdout)).members;
}

export interface Anchor {
  /** The healthy member that runs the membership commands. */
  anchor: HostSpec;
  current: Member[];
  /** Members (host names) that answer healthy. */
  healthy: Set<string>;
}

/**
 * A healthy member among `candidates` to run membership commands on, with the member list it
 * reads; `inventory` names every member whose health counts.
 */
export async function findAnchor(
  inventory: Inventory,
  candidates: readonly HostSpec[],
  conn: (host: string) => SshConnection,
  signal?: AbortSignal,
): Promise<Anchor> {
  const health = await memberHealth(conn(candidates[0]!.name), inventory, signal);
  const anchor = candidates.find((h) => health.get(h.name));
  if (!anchor)
    throw new OperationError('no etcd member is healthy; repair the cluster before changing its membership');
  const current = await listMembers(conn(anchor.name), signal);
  const healthy = new Set([...health].filter(([, ok]) => ok).map(([n]) => n));
  return { anchor, current, healthy };
}

export async function untilHealthy(conn: SshConnection, signal?: AbortSignal): Promise<void> {
  const result = await conn.exec(['sh', '-c', waitHealthyScript(60)], { signal });
  if (result.exitCode !== 0)
    throw new OperationError(
      `etcd on ${conn.target.name} is not healthy; stopped before changing membership further`,
    );
}

/** Runs a membership command, retrying for up to 30 s while the cluster settles (leader election). */
export async function retrying(
  conn: SshConnection,
  argv: string[],
  signal?: AbortSignal,
): Promise<ExecResult> {
  const until = Date.now() + 30_000;
  for (;;) {
    const result = await conn.exec(argv, { signal });
    if (result.exitCode === 0) return result;
    if (Date.now() > until)
      throw new OperationError(
        `${conn.target.name}: ${argv.slice(-3).join(' ')} failed: ${result.stderr.trim().split('\n').pop()}`,
      );
    await sleep(1000);
  }
}

/** Promotes a learner once it has caught up with the leader (etcd refuses before that). */
export async function promote(
  conn: SshConnection,
  name: string,
  id: string,
  signal?: AbortSignal,
): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const result = await conn.exec(etcdctl(LOCAL_ENDPOINT, 'member', 'promote', hexId(id)), { signal });
    if (result.exitCode === 0) return;
    if (Date.now() > until)
      throw new OperationError(
        `${name} did not catch up with the leader within 60 s: ${result.stderr.trim()}`,
      );
    await sleep(500);
  }
}
