import { hostUrl } from '../inventory/net.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { sh } from '../transport/quote.js';

/** Where etcd keeps its files on a member. */
export const ETCD_PATHS = {
  pki: '/etc/etcd/pki',
  ca: '/etc/etcd/pki/ca.crt',
  serverCert: '/etc/etcd/pki/server.crt',
  serverKey: '/etc/etcd/pki/server.key',
  peerCert: '/etc/etcd/pki/peer.crt',
  peerKey: '/etc/etcd/pki/peer.key',
  clientCert: '/etc/etcd/pki/kubesmith-client.crt',
  clientKey: '/etc/etcd/pki/kubesmith-client.key',
  unit: '/etc/systemd/system/etcd.service',
} as const;

export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;

const url = (address: string, port: number) => hostUrl('https', address, port);

/** etcd's backend quota (8 GiB, its recommended maximum): a member refuses writes beyond it. */
export const ETCD_QUOTA_BYTES = 8 * 1024 ** 3;

export function etcdMembers(inv: Inventory): HostSpec[] {
  return inv.hosts.filter((h) => h.roles.includes('etcd'));
}

export function initialCluster(inv: Inventory): string {
  return etcdMembers(inv)
    .map((m) => `${m.name}=${url(m.address, PEER_PORT)}`)
    .join(',');
}

export function clientEndpoints(inv: Inventory): string[] {
  return etcdMembers(inv).map((m) => url(m.address, CLIENT_PORT));
}

function minor(version: string): number {
  return Number(version.split('.')[1] ?? 0);
}

/**
 * The etcd command line for one member, valid for the installed etcd version: TLS with
 * client-cert auth on both listeners, no plaintext listener, metrics on localhost only.
 */
export interface Bootstrap {
  initialCluster: string;
  state: 'new' | 'existing';
}

export function etcdFlags(
  version: string,
  member: HostSpec,
  inv: Inventory,
  bootstrap?: Bootstrap,
): string[] {
  const flags = [
    `--name=${member.name}`,
    `--data-dir=${inv.etcd.dataDir}`,
    ...(inv.etcd.walDir ? [`--wal-dir=${inv.etcd.walDir}`] : []),
    `--listen-peer-urls=${url(member.address, PEER_PORT)}`,
    `--listen-client-urls=${url(member.address, CLIENT_PORT)},${url('127.0.0.1', CLIENT_PORT)}`,
    `--advertise-client-urls=${url(member.address, CLIENT_PORT)}`,
    `--initial-advertise-peer-urls=${url(member.address, PEER_PORT)}`,
    `--initial-cluster=${bootstrap?.initialCluster ?? initialCluster(inv)}`,
    `--initial-cluster-token=etcd-${inv.cluster.name}`,
    `--initial-cluster-state=${bootstrap?.state ?? 'new'}`,
    `--cert-file=${ETCD_PATHS.serverCert}`,
    `--key-file=${ETCD_PATHS.serverKey}`,
    `--trusted-ca-file=${ETCD_PATHS.ca}`,
    '--client-cert-auth=true',
    `--peer-cert-file=${ETCD_PATHS.peerCert}`,
    `--peer-key-file=${ETCD_PATHS.peerKey}`,
    `--peer-trusted-ca-file=${ETCD_PATHS.ca}`,
    '--peer-client-cert-auth=true',
    '--listen-metrics-urls=http://127.0.0.1:2381',
    '--auto-compaction-mode=periodic',
    '--auto-compaction-retention=1h',
    `--quota-backend-bytes=${ETCD_QUOTA_BYTES}`,
    '--snapshot-count=10000',
  ];
  // The corruption check at start-up moved from an experimental flag to a feature gate in 3.6.
  flags.push(
    minor(version) >= 6
      ? '--feature-gates=InitialCorruptCheck=true'
      : '--experimental-initial-corrupt-check=true',
  );
  return flags;
}

/** etcdctl argv against one endpoint with kubesmith's client certificate on a member. */
export function etcdctl(endpoints: string | string[], ...args: string[]): string[] {
  return [
    'etcdctl',
    `--endpoints=${Array.isArray(endpoints) ? endpoints.join(',') : endpoints}`,
    `--cacert=${ETCD_PATHS.ca}`,
    `--cert=${ETCD_PATHS.clientCert}`,
    `--key=${ETCD_PATHS.clientKey}`,
    '--command-timeout=5s',
    ...args,
  ];
}

export const LOCAL_ENDPOINT = url('127.0.0.1', CLIENT_PORT);

/**
 * A shell loop that waits, up to `seconds` of wall time, until the local member reports healthy.
 * A learner cannot answer the linearizable health read, so for one only `endpoint status` is asked.
 */
export function waitHealthyScript(seconds: number, learner = false): string {
  const probe = learner
    ? etcdctl(LOCAL_ENDPOINT, 'endpoint', 'status')
    : etcdctl(LOCAL_ENDPOINT, 'endpoint', 'health');
  const check = sh`${probe} >/dev/null 2>&1`;
  return `end=$(($(date +%s) + ${seconds})); until ${check}; do [ "$(date +%s)" -ge "$end" ] && exit 1; sleep 0.5; done`;
}
