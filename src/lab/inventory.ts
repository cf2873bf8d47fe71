import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isMap, isSeq, parseDocument, stringify } from 'yaml';
import type { ClusterPaths } from '../home.js';
import { LAB_KUBERNETES_VERSIONS } from './build/recipes.js';
import type { LabState } from './state.js';

/**
 * The lab's hosts run on this machine's kernel, which mounts cgroup v1 here; Kubernetes
 * 1.35+ refuses cgroup v1, so the lab pins the newest minor that still accepts it.
 */
export const LAB_KUBERNETES_VERSION = LAB_KUBERNETES_VERSIONS[0];

export interface LabInventoryOptions {
  keyFile: string;
  bundleDir?: string;
}

export function labInventory(state: LabState, options: LabInventoryOptions): string {
  const inventory = {
    cluster: {
      name: state.name,
      kubernetesVersion: LAB_KUBERNETES_VERSION,
      // This kernel has no IPVS (and the lab cannot load modules), so kube-proxy uses iptables;
      // calico's images cannot be built here, flannel's can.
      network: {
        plugin: 'flannel',
        podCidr: '172.20.0.0/16',
        serviceCidr: '10.68.0.0/16',
        proxyMode: 'iptables',
      },
    },
    // NodeLocal DNSCache's image cannot be built here; CoreDNS and metrics-server's can.
    addons: { nodeLocalDns: false },
    // Every lab machine shares this machine's disk, which also holds the Go build caches: a
    // share of it would put every node under DiskPressure together; a fixed floor does not.
    kubelet: {
      evictionHard: {
        'memory.available': '100Mi',
        'nodefs.available': '2Gi',
        'nodefs.inodesFree': '5%',
        'imagefs.available': '2Gi',
      },
    },
    ssh: { user: 'root', port: 22, identityFile: options.keyFile, hostKeyPolicy: 'strict' },
    artifacts: options.bundleDir ? { source: 'dir', dir: options.bundleDir } : { source: 'download' },
    hosts: state.machines.map((m) => ({ name: m.name, address: m.address, roles: m.roles })),
  };
  return `# Written by 'kubesmith lab up ${state.machines.length} --name ${state.name}'. Host keys are pinned in known_hosts beside this file.\n# Adding machines (lab up with a larger count) appends them here as nodes and keeps the rest.\n${stringify(inventory)}`;
}

/** Writes a file only when its content differs; returns whether it changed. */
export async function writeIfChanged(file: string, content: string, mode = 0o600): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await writeFile(file, content, { mode });
  return true;
}

/**
 * A running lab's inventory with the machines it lacks appended as nodes: what the user changed
 * (the version after an upgrade, the artifact source, roles, labels) stays. Undefined when there
 * is no inventory to keep.
 */
async function grownInventory(file: string, state: LabState): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const doc = parseDocument(text);
  const hosts = doc.get('hosts');
  if (!isSeq(hosts)) return undefined;
  const names = new Set(hosts.items.map((h) => (isMap(h) ? String(h.get('name')) : '')));
  for (const m of state.machines)
    if (!names.has(m.name)) hosts.add(doc.createNode({ name: m.name, address: m.address, roles: m.roles }));
  return doc.toString();
}

/**
 * The lab's inventory: a new lab gets a fresh one; a running lab that grows keeps its file and
 * gains the new machines (`grow`).
 */
export async function writeLabCluster(
  paths: ClusterPaths,
  state: LabState,
  options: LabInventoryOptions & { grow: boolean },
  hostKeys: string[],
): Promise<boolean> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const kept = options.grow ? await grownInventory(paths.inventory, state) : undefined;
  const a = await writeIfChanged(paths.inventory, kept ?? labInventory(state, options));
  const b = await writeIfChanged(paths.knownHosts, `${hostKeys.join('\n')}\n`);
  return a || b;
}
