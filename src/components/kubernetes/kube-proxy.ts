import { render } from '../../engine/template.js';
import type { HostSpec, Inventory } from '../../inventory/schema.js';
import { K8S_PATHS } from './paths.js';
import { flagLines } from './unit.js';

export interface KubeProxyOptions {
  /**
   * Leave nf_conntrack_max alone (conntrack.maxPerCore: 0): for hosts where kube-proxy cannot
   * set it, e.g. containers whose /proc/sys is read-only.
   */
  keepConntrackMax?: boolean;
}

/** The KubeProxyConfiguration of one host: the inventory's proxy mode and pod CIDR, its own kubeconfig. */
export function renderKubeProxyConfig(
  host: HostSpec,
  inv: Inventory,
  options: KubeProxyOptions = {},
): string {
  return render('kube-proxy/kube-proxy-config.yaml', {
    kubeconfig: K8S_PATHS.kubeProxyKubeconfig,
    hostname: host.name,
    mode: inv.cluster.network.proxyMode,
    clusterCidr: inv.cluster.network.podCidr,
    keepConntrackMax: options.keepConntrackMax ?? false,
  });
}

export function kubeProxyFlags(_version: string): string[] {
  return [`--config=${K8S_PATHS.kubeProxyConfig}`];
}

export function renderKubeProxyUnit(version: string, host: HostSpec, inv: Inventory): string {
  return render('kube-proxy/kube-proxy.service', {
    host: host.name,
    cluster: inv.cluster.name,
    version,
    binary: `${inv.artifacts.binDir}/kube-proxy`,
    binDir: inv.artifacts.binDir,
    flagLines: flagLines(kubeProxyFlags(version)),
  });
}
