import { isIP } from 'node:net';
import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import { serviceIp } from '../../pki/kubernetes-spec.js';
import { useImages } from '../network/images.js';
import { configMapData, containerNamed, objectNamed } from '../network/manifest.js';
import type { WorkloadRef } from '../network/types.js';
import { k8sRegistryImage } from './images.js';
import { addonManifest, fieldsAt, filled } from './manifest.js';

/** The link-local address node-cache listens on, the one the Kubernetes docs use. */
export const NODE_LOCAL_DNS_IP = '169.254.20.10';

/** The image templates/addons/nodelocaldns/nodelocaldns.yaml names. */
export const NODE_LOCAL_DNS_IMAGE = 'registry.k8s.io/dns/k8s-dns-node-cache:1.26.4';

export const NODE_LOCAL_DNS_LAB_NOTE =
  "NodeLocal DNSCache's image (registry.k8s.io/dns/k8s-dns-node-cache) cannot be built in the lab, so it is rendered and contract-tested only.";

export const NODE_LOCAL_DNS_DAEMONSET: WorkloadRef = {
  kind: 'DaemonSet',
  namespace: 'kube-system',
  name: 'node-local-dns',
};

export interface NodeLocalDnsOptions {
  /** The address node-cache listens on on every node; default NODE_LOCAL_DNS_IP. */
  localIp?: string;
  /** Default: NODE_LOCAL_DNS_IMAGE through cluster.imageRegistry. */
  image?: string;
}

export function nodeLocalDnsImages(inv: Inventory, options: NodeLocalDnsOptions = {}): string[] {
  return [options.image ?? k8sRegistryImage(NODE_LOCAL_DNS_IMAGE, inv.cluster.imageRegistry)];
}

/**
 * Upstream's NodeLocal DNSCache addon with its placeholders filled as the Kubernetes task "Using
 * NodeLocal DNSCache" says for the inventory's kube-proxy mode. iptables (and nftables, where
 * nothing holds service addresses on an interface either): node-cache listens on the kube-dns
 * address too and lets it skip conntrack and NAT, so pods keep the kubelets' clusterDNS, the
 * kube-dns address. ipvs: kube-ipvs0 holds the kube-dns address, so node-cache listens on the
 * local address only and forwards to kube-dns itself; pods reach it only where the kubelets'
 * clusterDNS is the local address. __PILLAR__UPSTREAM__SERVERS__ (and, outside ipvs mode,
 * __PILLAR__CLUSTER__DNS__) stay: node-cache fills them when it starts, from the node's
 * resolv.conf and the kube-dns-upstream Service.
 */
export function nodeLocalDnsObjects(inv: Inventory, options: NodeLocalDnsOptions = {}): KubeObject[] {
  const localIp = options.localIp ?? NODE_LOCAL_DNS_IP;
  const kubeDns = serviceIp(inv, 10);
  const ipvs = inv.cluster.network.proxyMode === 'ipvs';
  const listen = ipvs ? [localIp] : [localIp, kubeDns];
  const objects = addonManifest('nodelocaldns/nodelocaldns.yaml');

  const data = configMapData(objectNamed(objects, 'ConfigMap', 'node-local-dns'));
  const where = 'the node-local-dns Corefile';
  const health = isIP(localIp) === 6 ? `[${localIp}]:8080` : `${localIp}:8080`;
  const bind = `bind ${listen.join(' ')}`;
  let corefile = filled(data.Corefile, 'bind __PILLAR__LOCAL__DNS__ __PILLAR__DNS__SERVER__', bind, where);
  corefile = filled(corefile, 'health __PILLAR__LOCAL__DNS__:8080', `health ${health}`, where);
  corefile = filled(corefile, '__PILLAR__DNS__DOMAIN__', inv.cluster.network.dnsDomain, where);
  data.Corefile = ipvs ? filled(corefile, '__PILLAR__CLUSTER__DNS__', kubeDns, where) : corefile;

  const daemonSet = objectNamed(objects, NODE_LOCAL_DNS_DAEMONSET.kind, NODE_LOCAL_DNS_DAEMONSET.name);
  const cache = containerNamed(daemonSet, 'node-cache');
  const args = cache.args ?? [];
  const localIpArg = args.indexOf('-localip') + 1;
  args[localIpArg] = filled(
    args[localIpArg],
    '__PILLAR__LOCAL__DNS__,__PILLAR__DNS__SERVER__',
    listen.join(','),
    'the -localip argument',
  );
  const probe = fieldsAt(cache, ['livenessProbe', 'httpGet']);
  probe.host = filled(probe.host, '__PILLAR__LOCAL__DNS__', localIp, 'the liveness probe');
  cache.image = nodeLocalDnsImages(inv, options)[0]!;
  useImages(objects, undefined); // no mirror: the name is set above; pulled only when missing
  return objects;
}
