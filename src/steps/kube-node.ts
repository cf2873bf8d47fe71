import { NODE_LOCAL_DNS_IP } from '../components/addons/nodelocaldns.js';
import { balancerFiles, nodeFiles } from '../components/kubernetes/host-files.js';
import { kubeProxyFlags } from '../components/kubernetes/kube-proxy.js';
import { type KubeletOptions, kubeletFlags } from '../components/kubernetes/kubelet.js';
import { K8S_PATHS, K8S_PKI, unitPath } from '../components/kubernetes/paths.js';
import type { Resource, ServiceResource } from '../engine/resources.js';
import { oneAtATime } from '../engine/shared.js';
import type { Step } from '../engine/step.js';
import { archOf, artifactsFor, binaryResources } from '../hostlib/artifacts.js';
import { balancerResources, fileResource, flagInputs } from '../hostlib/balancer.js';
import { kubernetesPki } from '../hostlib/kubernetes-pki.js';
import { clusterMarker } from '../hostlib/marker.js';
import { sectionedRead } from '../hostlib/sections.js';
import { INSTALLED_VERSION_FILE, recordInstalled, refuseDowngrade } from '../upgrade/installed.js';
import { refuseDuringUpgrade } from '../upgrade/marker.js';

const NODE_BINARIES = ['bin/kubelet', 'bin/kube-proxy'];
const SYSTEMD_RESOLVED_STUB = '127.0.0.53';

const read = sectionedRead([
  ['uname', 'uname -m'],
  ['installed', `cat ${INSTALLED_VERSION_FILE} 2>/dev/null || true`],
  ['virt', 'systemd-detect-virt --container 2>/dev/null || true'],
  ['cgroup', 'stat -fc %T /sys/fs/cgroup'],
  ['resolv', 'cat /etc/resolv.conf 2>/dev/null'],
  ['resolved', 'test -s /run/systemd/resolve/resolv.conf && echo yes || true'],
  ['balancer', `cat ${K8S_PATHS.haproxyConfig} 2>/dev/null || true`],
  ['balanceractive', 'systemctl is-active haproxy 2>/dev/null || true'],
]);

/** What the host itself decides about its kubelet: cgroup version, resolver, container quirks. */
export function kubeletOptionsFrom(sections: Map<string, string>): KubeletOptions & { container: boolean } {
  const virt = sections.get('virt')?.trim() ?? '';
  const container = virt !== '' && virt !== 'none';
  const stubResolver = (sections.get('resolv') ?? '')
    .split('\n')
    .some((line) => line.trim().split(/\s+/).join(' ') === `nameserver ${SYSTEMD_RESOLVED_STUB}`);
  return {
    container,
    cgroupV1: sections.get('cgroup')?.trim() !== 'cgroup2fs',
    // The stub resolver would send pods' lookups back into CoreDNS: a loop.
    ...(stubResolver && sections.get('resolved')?.trim() === 'yes'
      ? { resolvConf: '/run/systemd/resolve/resolv.conf' }
      : {}),
    // A container cannot turn off the swap of the machine it runs on.
    ignoreSwap: container,
  };
}

export const kubeNode: Step = {
  id: 'kube-node',
  title: 'Nodes: kubelet and kube-proxy on every master and node, the local balancer',
  async preflight(ctx) {
    await refuseDuringUpgrade(ctx);
    for (const arch of ctx.arches) await artifactsFor(ctx, arch, NODE_BINARIES);
    await kubernetesPki(ctx);
  },
  async run(ctx) {
    const { host, inventory } = ctx;
    const seen = read.parse((await ctx.read(['sh', '-c', read.script])).stdout);
    const binaries = await artifactsFor(ctx, archOf(seen.get('uname')?.trim() ?? ''), NODE_BINARIES);
    const version = binaries.get('bin/kubelet')!.version;
    const installed = seen.get('installed') ?? '';
    refuseDowngrade(host.name, installed, version);
    const { pki } = await kubernetesPki(ctx);
    const { container, ...fromHost } = kubeletOptionsFrom(seen);
    // With IPVS, NodeLocal DNSCache answers on its link-local address only: pods must ask it there.
    const viaNodeLocalDns = inventory.addons.nodeLocalDns && inventory.cluster.network.proxyMode === 'ipvs';
    const kubelet = { ...fromHost, ...(viaNodeLocalDns ? { clusterDns: NODE_LOCAL_DNS_IP } : {}) };
    // In a container kube-proxy cannot raise the machine-wide conntrack table size.
    const files = nodeFiles(host, inventory, {
      version,
      pki,
      kubelet,
      kubeProxy: { keepConntrackMax: container },
    });
    const service = (name: string, inputs: string[]): ServiceResource => ({
      kind: 'service',
      name,
      enabled: true,
      state: 'started',
      // The binary too: a bundle rebuilt at the same version changes nothing else.
      restartOn: [unitPath(name), `${inventory.artifacts.binDir}/${name}`, ...inputs],
    });
    const resources: Resource[] = [
      clusterMarker(inventory),
      ...binaryResources(ctx, binaries.values()),
      { kind: 'directory', path: K8S_PKI, mode: 0o755 },
      { kind: 'directory', path: '/var/lib/kubelet', mode: 0o700 },
      { kind: 'directory', path: '/var/lib/kubelet/pki', mode: 0o700 },
      { kind: 'directory', path: '/var/lib/kube-proxy', mode: 0o755 },
      ...files.map(fileResource),
      ...balancerResources(inventory),
      // The config file names the certs, the CA and the rest.
      service('kubelet', [
        ...flagInputs(kubeletFlags(version, host), files),
        K8S_PATHS.kubeletServingCert,
        K8S_PATHS.kubeletServingKey,
        K8S_PATHS.caCert,
      ]),
      service('kube-proxy', [...flagInputs(kubeProxyFlags(version), files), K8S_PATHS.kubeProxyKubeconfig]),
    ];
    // A running balancer given new masters (add-master, del-master) restarts one host at a time,
    // so kubelets elsewhere keep reaching the API meanwhile.
    const balancer = balancerFiles(inventory).find((f) => f.path === K8S_PATHS.haproxyConfig);
    const rerouted =
      balancer !== undefined &&
      seen.get('balanceractive')?.trim() === 'active' &&
      seen.get('balancer') !== balancer.content;
    if (rerouted) await oneAtATime(ctx.shared, 'balancer-restart', host.name, () => ctx.apply(resources));
    else await ctx.apply(resources);
    await recordInstalled(ctx, installed, version);
  },
};
