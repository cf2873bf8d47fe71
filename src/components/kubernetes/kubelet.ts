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

/** What the host and the run decide, beyond the inventory. */
export interface KubeletOptions {
  /** The host runs cgroup v1 (its facts say so): 1.35 and later then need failCgroupV1: false. */
  cgroupV1: boolean;
  /** Cluster DNS address; the 10th service IP unless a node-local DNS cache answers elsewhere. */
  clusterDns?: string;
  /** systemd-resolved hosts need /run/systemd/resolve/resolv.conf (the stub would loop through CoreDNS). */
  resolvConf?: string;
  /** The node runs in a container whose swap kubelet cannot see turned off (e.g. the lab's). */
  ignoreSwap?: boolean;
}

/**
 * The taints a node should carry: the inventory's, and on masters the control-plane taint unless
 * cluster.mastersSchedulable (or the host's own list already has that key).
 */
export function nodeTaints(host: HostSpec, inv: Inventory): Taint[] {
  const own = host.taints.map((t) => ({
    key: t.key,
    ...(t.value ? { value: t.value } : {}),
    effect: t.effect,
  }));
  const controlPlane =
    host.roles.includes('master') &&
    !inv.cluster.mastersSchedulable &&
    !own.some((t) => t.key === CONTROL_PLANE_TAINT.key);
  return controlPlane ? [CONTROL_PLANE_TAINT, ...own] : own;
}

const entries = (map: Partial<Record<string, string>>) =>
  Object.entries(map).map(([key, value]) => ({ key, value: value ?? '' }));

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
  const tuning = inv.kubelet;
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
    taints: nodeTaints(host, inv),
    failSwapOn: !options.ignoreSwap,
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
