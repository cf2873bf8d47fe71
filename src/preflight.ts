import { dirname } from 'node:path';
import type { HostFacts } from './facts.js';
import {
  CLUSTER_MARKER,
  type ClusterIdentity,
  clusterIdentity,
  isOurMarker,
  parseMarker,
} from './hostlib/marker.js';
import type { HostSpec, Inventory } from './inventory/schema.js';
import { minorOf } from './inventory/versions.js';
import { kernelSource } from './os/kernel-upgrade.js';
import { downgradeRefusal } from './upgrade/installed.js';

export type Severity = 'block' | 'warn' | 'info';

export interface Finding {
  host: string;
  severity: Severity;
  message: string;
}

const PORTS: Record<number, { roles: string[]; what: string }> = {
  6443: { roles: ['master'], what: 'kube-apiserver' },
  2379: { roles: ['etcd'], what: 'etcd client' },
  2380: { roles: ['etcd'], what: 'etcd peer' },
  10250: { roles: ['master', 'node'], what: 'kubelet' },
  10257: { roles: ['master'], what: 'kube-controller-manager' },
  10259: { roles: ['master'], what: 'kube-scheduler' },
};

const SUPPORTED_OS: Record<string, number> = {
  debian: 11,
  ubuntu: 20,
  rocky: 8,
  almalinux: 8,
  rhel: 8,
  centos: 9,
  openeuler: 22,
  kylin: 10,
};

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split(/[.-]/).map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The cluster a setup deploys: its identity, or its name alone (then any id of that name counts as ours). */
export type DeployCluster = string | ClusterIdentity;

/** Findings about one host on its own. */
export function hostFindings(
  host: HostSpec,
  facts: HostFacts,
  inventory: Inventory,
  deploying: DeployCluster,
): Finding[] {
  const out: Finding[] = [];
  const add = (severity: Severity, message: string) => out.push({ host: host.name, severity, message });
  const isK8s = host.roles.includes('master') || host.roles.includes('node');
  if (!['x86_64', 'aarch64'].includes(facts.arch))
    add('block', `architecture ${facts.arch} is not supported (amd64 and arm64 are)`);
  const osMin = SUPPORTED_OS[facts.os.id];
  if (osMin === undefined) add('warn', `${facts.os.prettyName} is not a tested distribution`);
  else if (Number.parseFloat(facts.os.versionId) < osMin)
    add('block', `${facts.os.prettyName} is too old; ${facts.os.id} ${osMin} or newer is needed`);
  const upgrade = inventory.prepare.kernelUpgrade.enabled ? kernelSource(facts) : undefined;
  if (upgrade && 'refused' in upgrade) add('block', `prepare.kernelUpgrade: ${upgrade.refused}`);
  if (compareVersions(facts.kernel, '4.19') < 0 && upgrade && !('refused' in upgrade))
    add('warn', `kernel ${facts.kernel} is older than 4.19; prepare.kernelUpgrade replaces it`);
  else if (compareVersions(facts.kernel, '4.19') < 0)
    add(
      'block',
      `kernel ${facts.kernel} is older than 4.19, the minimum for Kubernetes; upgrade it, or set prepare.kernelUpgrade.enabled: true`,
    );
  else if (compareVersions(facts.kernel, '5.8') < 0)
    add('warn', `kernel ${facts.kernel}: 5.8 or newer is recommended for cgroup v2`);
  if (
    isK8s &&
    facts.cgroupVersion === 1 &&
    compareVersions(minorOf(inventory.cluster.kubernetesVersion), '1.35') >= 0
  ) {
    // kubelet refuses cgroup v1 from 1.35 on unless told otherwise; kubesmith tells it (failCgroupV1: false).
    add(
      'warn',
      `cgroup v1 is deprecated from Kubernetes 1.35 on: kubelet runs with failCgroupV1: false; move to cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1) before a release drops it`,
    );
  }
  if (host.roles.includes('master') && facts.cpus < 2)
    add('block', `${facts.cpus} CPU: a master needs at least 2`);
  if (host.roles.includes('master') && facts.memoryMiB < 1700)
    add('block', `${facts.memoryMiB} MiB memory: a master needs at least 1700 MiB`);
  if (facts.swapActive) add('warn', 'swap is on; setup step prepare turns it off');
  if (Math.abs(facts.clockSkewMs) >= 60_000)
    add(
      'block',
      `clock is off by ${(facts.clockSkewMs / 1000).toFixed(1)}s from the deploy machine; fix time sync first`,
    );
  else if (Math.abs(facts.clockSkewMs) >= 1000)
    add('warn', `clock is off by ${(facts.clockSkewMs / 1000).toFixed(1)}s from the deploy machine`);
  if (facts.packageManager === 'none')
    add('warn', 'no apt, dnf or yum found: missing packages cannot be installed');
  const identity = typeof deploying === 'string' ? { name: deploying } : deploying;
  const marker = parseMarker(facts.kubesmithCluster);
  const ours = marker !== undefined && isOurMarker(marker, identity);
  if (marker && !ours)
    add(
      'block',
      `${host.name} belongs to another kubesmith cluster: ${CLUSTER_MARKER} says '${marker.name}'${marker.id ? ` with id ${marker.id}` : ''}, this cluster is '${identity.name}'${'id' in identity ? ` with id ${identity.id}` : ''}; if that cluster is gone, reset ${host.name} (stop its services, delete ${dirname(CLUSTER_MARKER)}/) or use another host${marker.name === identity.name ? `; if it is this cluster and this deploy machine lost or re-made clusters/${identity.name}/cluster-id, copy cluster-id back from a backup folder (clusters/${identity.name}/backups/<time>/cluster-id) instead` : ''}`,
    );
  // Another cluster's host is refused above; its record says nothing about this cluster.
  const downgrade =
    ours && isK8s && facts.kubernetesInstalled
      ? downgradeRefusal(host.name, facts.kubernetesInstalled, inventory.cluster.kubernetesVersion)
      : undefined;
  if (downgrade) add('block', downgrade);
  for (const port of facts.listeningPorts) {
    const use = PORTS[port];
    if (!use?.roles.some((r) => host.roles.includes(r as HostSpec['roles'][number]))) continue;
    if (ours) add('info', `port ${port} (${use.what}) is in use, by this cluster`);
    else if (!marker) add('block', `port ${port}, needed by ${use.what}, is already in use`);
  }
  return out;
}

/** Findings that need every host at once: duplicates that break Kubernetes. */
export function crossHostFindings(facts: ReadonlyMap<string, HostFacts>): Finding[] {
  const out: Finding[] = [];
  const byUuid = new Map<string, string[]>();
  const byMac = new Map<string, string[]>();
  for (const [host, f] of facts) {
    byUuid.set(f.productUuid, [...(byUuid.get(f.productUuid) ?? []), host]);
    for (const mac of new Set(f.macs)) byMac.set(mac, [...(byMac.get(mac) ?? []), host]);
  }
  for (const [uuid, hosts] of byUuid) {
    if (hosts.length > 1)
      for (const host of hosts)
        out.push({
          host,
          severity: 'block',
          message: `product_uuid ${uuid} is shared with ${hosts.filter((h) => h !== host).join(', ')} (cloned machines?)`,
        });
  }
  for (const [mac, hosts] of byMac) {
    if (hosts.length > 1)
      for (const host of hosts)
        out.push({
          host,
          severity: 'block',
          message: `MAC ${mac} is shared with ${hosts.filter((h) => h !== host).join(', ')}`,
        });
  }
  return out;
}

/** Every finding for the hosts whose facts were read: each host on its own, then across hosts. */
export function allFindings(
  inventory: Inventory,
  facts: ReadonlyMap<string, HostFacts>,
  deploying: DeployCluster = clusterIdentity(inventory),
): Finding[] {
  const findings = inventory.hosts
    .filter((h) => facts.has(h.name))
    .flatMap((h) => hostFindings(h, facts.get(h.name)!, inventory, deploying));
  return [...findings, ...crossHostFindings(facts)];
}

/** The hosts a setup must not touch, each with every reason at once. */
export function refusals(
  inventory: Inventory,
  facts: ReadonlyMap<string, HostFacts>,
  deploying: DeployCluster = clusterIdentity(inventory),
): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of allFindings(inventory, facts, deploying).filter((x) => x.severity === 'block'))
    out.set(
      f.host,
      out.has(f.host) ? `${out.get(f.host)}; ${f.message}` : `preflight refused ${f.host}: ${f.message}`,
    );
  return out;
}
