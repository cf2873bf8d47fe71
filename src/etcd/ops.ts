import { z } from 'zod';
import {
  clientEndpoints,
  etcdctl,
  etcdMembers,
  initialCluster,
  LOCAL_ENDPOINT,
  PEER_PORT,
} from '../components/etcd.js';
import { OperationError } from '../errors.js';
import { sectionedRead } from '../hostlib/sections.js';
import { addressOfUrl, hostUrl, sameAddress } from '../inventory/net.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { sh } from '../transport/quote.js';
import type { SshConnection } from '../transport/ssh.js';

/** etcd's own JSON, parsed as data. */
export const healthSchema = z.array(
  z.object({ endpoint: z.string(), health: z.boolean(), error: z.string().optional() }).loose(),
);
export const snapshotStatusSchema = z
  .object({ hash: z.number(), revision: z.number(), totalKey: z.number(), totalSize: z.number() })
  .loose();
const countSchema = z
  .object({
    header: z.object({ revision: z.coerce.number() }).loose(),
    count: z.coerce.number().optional().default(0),
  })
  .loose();
/** One entry of `etcdctl member list -w json` (IDs read as strings: they are uint64; an unstarted member has no name). */
export const memberSchema = z
  .object({
    ID: z.union([z.number(), z.string()]).transform(String),
    name: z.string().optional().default(''),
    peerURLs: z.array(z.string()).default([]),
    clientURLs: z.array(z.string()).default([]),
    isLearner: z.boolean().optional().default(false),
  })
  .loose();
export const memberListSchema = z.object({ members: z.array(memberSchema) }).loose();
export const memberAddSchema = z.object({ member: memberSchema, members: z.array(memberSchema) }).loose();
export type Member = z.output<typeof memberSchema>;
const statusSchema = z.array(z.object({ Status: z.object({ version: z.string() }).loose() }).loose());

export type SnapshotStatus = z.output<typeof snapshotStatusSchema>;

/** etcd's JSON carries uint64 IDs that a JavaScript number cannot hold: read them as strings. */
export function parseEtcdJson(text: string): unknown {
  return JSON.parse(text.replace(/"(ID|id|cluster_id|member_id|memberID|leader)":(\d+)/g, '"$1":"$2"'));
}

/** etcd's JSON output read with one of these schemas; anything else is an OperationError naming `what`. */
export function readEtcdJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  try {
    return schema.parse(parseEtcdJson(text));
  } catch (cause) {
    throw new OperationError(
      `could not read ${what} from etcd: ${text.trim().slice(0, 200) || 'no output'}`,
      undefined,
      { cause },
    );
  }
}

/** Which members answer healthy, asked of one member about all of them. */
export async function memberHealth(
  conn: SshConnection,
  inv: Inventory,
  signal?: AbortSignal,
): Promise<Map<string, boolean>> {
  const result = await conn.exec(
    ['sh', '-c', sh`${etcdctl(clientEndpoints(inv), 'endpoint', 'health', '-w', 'json')} 2>/dev/null`],
    { signal },
  );
  const health = result.stdout.trim() ? readEtcdJson(healthSchema, result.stdout, 'endpoint health') : [];
  return healthByMember(health, etcdMembers(inv));
}

/** Each member's health from `endpoint health -w json`, endpoints matched by address (IPv6 too). */
export function healthByMember(
  health: z.output<typeof healthSchema>,
  members: readonly HostSpec[],
): Map<string, boolean> {
  return new Map(
    members.map((m) => [
      m.name,
      health.some((h) => {
        const address = addressOfUrl(h.endpoint);
        return address !== undefined && sameAddress(address, m.address) && h.health;
      }),
    ]),
  );
}

/** The peer URL etcd advertises for a member. */
export function peerUrl(member: Pick<HostSpec, 'address'>): string {
  return hostUrl('https', member.address, PEER_PORT);
}

export interface LiveState {
  version: string;
  revision: number;
  keyCount: number;
  members: string[];
}

/** Version, revision, number of keys and members, read from the local member in one command. */
export async function liveState(conn: SshConnection, signal?: AbortSignal): Promise<LiveState> {
  const read = sectionedRead([
    ['status', sh`${etcdctl(LOCAL_ENDPOINT, 'endpoint', 'status', '-w', 'json')}`],
    // RangeResponse.count is the size of the whole range even with --limit (3.4 has no --count-only).
    [
      'count',
      sh`${etcdctl(LOCAL_ENDPOINT, 'get', '', '--prefix', '--keys-only', '--limit=1', '-w', 'json')}`,
    ],
    ['members', sh`${etcdctl(LOCAL_ENDPOINT, 'member', 'list', '-w', 'json')}`],
  ]);
  const { stdout } = await conn.run(['sh', '-c', read.script], { signal });
  const sections = read.parse(stdout);
  const versionText = sections.get('status') ?? '';
  const countText = sections.get('count') ?? '';
  const membersText = sections.get('members') ?? '';
  const count = readEtcdJson(countSchema, countText, 'the key count');
  return {
    version: readEtcdJson(statusSchema, versionText, 'the endpoint status')[0]?.Status.version ?? 'unknown',
    revision: count.header.revision,
    keyCount: count.count,
    members: readEtcdJson(memberListSchema, membersText, 'the member list')
      .members.map((m) => m.name)
      .sort(),
  };
}

/** The number of keys at a revision (0: the current one), read from the local member. */
export async function keyCountAt(
  conn: SshConnection,
  revision: number,
  signal?: AbortSignal,
): Promise<number> {
  const argv = etcdctl(
    LOCAL_ENDPOINT,
    'get',
    '',
    '--prefix',
    '--keys-only',
    '--limit=1',
    `--rev=${revision}`,
    '-w',
    'json',
  );
  const { stdout } = await conn.run(argv, { signal });
  return readEtcdJson(countSchema, stdout, `the key count at revision ${revision}`).count;
}

/** etcd 3.5 moved offline snapshot work to etcdutl; 3.4 has only etcdctl. */
export function offlineTool(version: string): 'etcdctl' | 'etcdutl' {
  return Number(version.split('.')[1] ?? 0) >= 5 ? 'etcdutl' : 'etcdctl';
}

export function snapshotStatusArgv(tool: string, file: string): string[] {
  return [tool, 'snapshot', 'status', file, '-w', 'json'];
}

export function snapshotSaveArgv(file: string): string[] {
  return etcdctl(LOCAL_ENDPOINT, 'snapshot', 'save', file);
}

/**
 * How far a restore moves etcd's revision past the snapshot's, and marks everything before it
 * compacted: watchers (kube-apiserver's caches, and through them CoreDNS, kube-proxy, the
 * controllers) hold revisions newer than the snapshot's and would otherwise wait for revisions
 * that come back only much later; with the old ones compacted they list again (the way the
 * Kubernetes documentation restores etcd). A billion revisions is the documented margin.
 */
export const RESTORE_REVISION_BUMP = 1_000_000_000;

/** etcdutl's restore knows --bump-revision and --mark-compacted from 3.5.10 on. */
export function canBumpRevision(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > 3 || (major === 3 && (minor > 5 || (minor === 5 && patch >= 10)));
}

/** Restores a snapshot into a new data dir for one member, with the full initial cluster of the inventory. */
export function snapshotRestoreArgv(
  version: string,
  snapshot: string,
  member: HostSpec,
  inv: Inventory,
  dataDir: string,
  walDir?: string,
): string[] {
  return [
    offlineTool(version),
    'snapshot',
    'restore',
    snapshot,
    `--name=${member.name}`,
    `--initial-cluster=${initialCluster(inv)}`,
    `--initial-cluster-token=etcd-${inv.cluster.name}`,
    `--initial-advertise-peer-urls=${peerUrl(member)}`,
    `--data-dir=${dataDir}`,
    ...(walDir ? [`--wal-dir=${walDir}`] : []),
    ...(canBumpRevision(version) ? [`--bump-revision=${RESTORE_REVISION_BUMP}`, '--mark-compacted'] : []),
  ];
}
