import { render } from '../../engine/template.js';
import type { HostSpec, Inventory } from '../../inventory/schema.js';
import { serviceIp } from '../../pki/kubernetes-spec.js';
import { CONTAINERD_PATHS } from '../containerd.js';
import { K8S_PATHS } from './paths.js';
import { flagLines, kubernetesMinor } from './unit.js';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export const CONTROL_PLANE_TAINT: Taint = {
  key: 'node-role.kubernetes.io/control-plane',
  effect: 'NoSchedule',
};

/** Pods, reserved resources and eviction: the inventory has no fields for them yet, so these hold. */
export interface KubeletTuning {
  maxPods: number;
  systemReserved: Record<string, string>;
  kubeReserved: Record<string, string>;
  evictionHard: Record<string, string>;
}

export const DEFAULT_KUBELET_TUNING: KubeletTuning = {
  maxPods: 110,
  systemReserved: { cpu: '100m', memory: '256Mi' },
  kubeReserved: { cpu: '100m', memory: '256Mi' },
  evictionHard: {
    'memory.available': '100Mi',
    'nodefs.available': '10%',
    'nodefs.inodesFree': '5%',
    'imagefs.available': '15%',
  },
};

/** What the host and the run decide, beyond the inventory. */
export interface KubeletOptions {
  /** The host runs cgroup v1 (its facts say so): 1.35 and later then need failCgroupV1: false. */
  cgroupV1: boolean;
  /** Cluster DNS address; the 10th service IP unless a node-local DNS cache answers elsewhere. */
  clusterDns?: string;
  /** systemd-resolved hosts need /run/systemd/resolve/resolv.conf (the stub would loop through CoreDNS). */
  resolvConf?: string;
  /** Taints set at registration; masters get the control-plane taint unless told otherwise. */
  registerWithTaints?: Taint[];
  tuning?: Partial<KubeletTuning>;
}

export function defaultTaints(host: HostSpec): Taint[] {
  return host.roles.includes('master') ? [CONTROL_PLANE_TAINT] : [];
}

const entries = (map: Record<string, string>) => Object.entries(map).map(([key, value]) => ({ key, value }));

/**
 * The KubeletConfiguration of one host: systemd cgroups as containerd has them, containerd's
 * socket, a serving cert signed by the cluster CA (no rotation: kubesmith reissues it), webhook
 * authentication and authorization with x509 clients of the cluster CA, no read-only port.
 */
export function renderKubeletConfig(
  version: string,
  host: HostSpec,
  inv: Inventory,
  options: KubeletOptions,
) {
  const tuning = { ...DEFAULT_KUBELET_TUNING, ...options.tuning };
  return render('kubelet/kubelet-config.yaml', {
    address: host.address,
    clientCaFile: K8S_PATHS.caCert,
    tlsCertFile: K8S_PATHS.kubeletServingCert,
    tlsPrivateKeyFile: K8S_PATHS.kubeletServingKey,
    containerRuntimeEndpoint: `unix://${CONTAINERD_PATHS.socket}`,
    clusterDns: options.clusterDns ?? serviceIp(inv, 10),
    clusterDomain: inv.cluster.network.dnsDomain,
    resolvConf: options.resolvConf ?? '/etc/resolv.conf',
    maxPods: tuning.maxPods,
    systemReserved: entries(tuning.systemReserved),
    kubeReserved: entries(tuning.kubeReserved),
    evictionHard: entries(tuning.evictionHard),
    taints: options.registerWithTaints ?? defaultTaints(host),
    failCgroupV1False: options.cgroupV1 && kubernetesMinor(version) >= 35,
  });
}

/** kubelet's flags: what the config file cannot say (its own path, the kubeconfig, the node's name and IP). */
export function kubeletFlags(_version: string, host: HostSpec): string[] {
  return [
    `--config=${K8S_PATHS.kubeletConfig}`,
    `--kubeconfig=${K8S_PATHS.kubeletKubeconfig}`,
    `--hostname-override=${host.name}`,
    `--node-ip=${host.address}`,
  ];
}

export function renderKubeletUnit(version: string, host: HostSpec, inv: Inventory): string {
  return render('kubelet/kubelet.service', {
    host: host.name,
    cluster: inv.cluster.name,
    version,
    binary: `${inv.artifacts.binDir}/kubelet`,
    binDir: inv.artifacts.binDir,
    flagLines: flagLines(kubeletFlags(version, host)),
  });
}
