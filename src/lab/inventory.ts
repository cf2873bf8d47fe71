import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
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
  return `# Written by 'kubesmith lab up ${state.machines.length} --name ${state.name}'. Host keys are pinned in known_hosts beside this file.\n# Adding machines rewrites this file; new machines join as nodes.\n${stringify(inventory)}`;
}

/** Writes a file only when its content differs; returns whether it changed. */
export async function writeIfChanged(file: string, content: string, mode = 0o600): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await writeFile(file, content, { mode });
  return true;
}

export async function writeLabCluster(
  paths: ClusterPaths,
  state: LabState,
  options: LabInventoryOptions,
  hostKeys: string[],
): Promise<boolean> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const a = await writeIfChanged(paths.inventory, labInventory(state, options));
  const b = await writeIfChanged(paths.knownHosts, `${hostKeys.join('\n')}\n`);
  return a || b;
}
