import { isIP } from 'node:net';
import { nthAddress, parseCidr } from '../inventory/net.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { CA, type CertSpec, cas, etcdCerts } from './spec.js';

/** Ids (file names under pki/, without .crt/.key) of the Kubernetes certificates. */
export const K8S_CERT = {
  apiserver: 'apiserver',
  apiserverKubeletClient: 'apiserver-kubelet-client',
  frontProxyClient: 'front-proxy-client',
  controllerManager: 'kube-controller-manager',
  scheduler: 'kube-scheduler',
  kubeProxy: 'kube-proxy',
  admin: 'admin',
  superAdmin: 'super-admin',
} as const;

export const kubeletClientCert = (node: string) => `kubelet/${node}-client`;
export const kubeletServingCert = (node: string) => `kubelet/${node}-serving`;

/** The group the lead binds to cluster-admin with a ClusterRoleBinding (kubeadm's name for it). */
export const CLUSTER_ADMINS_GROUP = 'kubeadm:cluster-admins';
/** Members of this group pass every authorization check; only the break-glass credential has it. */
export const SYSTEM_MASTERS_GROUP = 'system:masters';

export const masters = (inv: Inventory): HostSpec[] => inv.hosts.filter((h) => h.roles.includes('master'));

/** Every host that runs a kubelet and kube-proxy: masters and nodes. */
export const kubeletHosts = (inv: Inventory): HostSpec[] =>
  inv.hosts.filter((h) => h.roles.includes('master') || h.roles.includes('node'));

/** The n-th address of the service CIDR: 1 = the kubernetes Service, 10 = cluster DNS. */
export function serviceIp(inv: Inventory, n: number): string {
  const cidr = parseCidr(inv.cluster.network.serviceCidr);
  if (!cidr) throw new Error(`serviceCidr ${inv.cluster.network.serviceCidr} is not a CIDR`);
  return nthAddress(cidr, n);
}

/** The host part of cluster.controlPlaneEndpoint (HOST:PORT or [IPv6]:PORT), or undefined when empty. */
export function controlPlaneEndpointHost(inv: Inventory): string | undefined {
  const endpoint = inv.cluster.controlPlaneEndpoint;
  if (!endpoint) return undefined;
  const host = endpoint.slice(0, endpoint.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

const unique = (items: string[]) => [...new Set(items)];

/** Every name a client may use to reach an apiserver, split into DNS names and IP addresses. */
export function apiserverSans(inv: Inventory): { dnsNames: string[]; ipAddresses: string[] } {
  const domain = inv.cluster.network.dnsDomain;
  const endpoint = controlPlaneEndpointHost(inv);
  const names = [
    ...masters(inv).flatMap((m) => [m.name, m.address]),
    ...(endpoint ? [endpoint] : []),
    '127.0.0.1',
    'localhost',
    serviceIp(inv, 1),
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${domain}`,
  ];
  return {
    dnsNames: unique(names.filter((n) => isIP(n) === 0)),
    ipAddresses: unique(names.filter((n) => isIP(n) !== 0)),
  };
}

function client(id: string, commonName: string, days: number, organization?: string): CertSpec {
  return {
    id,
    issuer: CA.kubernetes,
    request: {
      commonName,
      ...(organization ? { organization } : {}),
      usages: ['client'],
      validityDays: days,
    },
  };
}

/** Per kubelet host: its client identity (Node authorizer) and its serving cert (name and address). */
function kubeletCerts(node: HostSpec, days: number): CertSpec[] {
  return [
    client(kubeletClientCert(node.name), `system:node:${node.name}`, days, 'system:nodes'),
    {
      id: kubeletServingCert(node.name),
      issuer: CA.kubernetes,
      request: {
        commonName: `system:node:${node.name}`,
        organization: 'system:nodes',
        dnsNames: [node.name],
        ipAddresses: [node.address],
        usages: ['server'],
        validityDays: days,
      },
    },
  ];
}

/**
 * The Kubernetes leaves (the CAs come from cas(), apiserver-etcd-client from etcdCerts()):
 * the apiserver's serving and client certs, the control-plane and kube-proxy identities,
 * admin and break-glass super-admin, and a client and serving cert per kubelet host.
 */
export function kubernetesCerts(inv: Inventory): CertSpec[] {
  const days = inv.cluster.certificates.certValidityDays;
  return [
    {
      id: K8S_CERT.apiserver,
      issuer: CA.kubernetes,
      request: {
        commonName: 'kube-apiserver',
        ...apiserverSans(inv),
        usages: ['server'],
        validityDays: days,
      },
    },
    // Same group as admin (kubeadm does the same): kubelets authorize the apiserver by webhook.
    client(K8S_CERT.apiserverKubeletClient, 'kube-apiserver-kubelet-client', days, CLUSTER_ADMINS_GROUP),
    {
      id: K8S_CERT.frontProxyClient,
      issuer: CA.frontProxy,
      request: { commonName: 'front-proxy-client', usages: ['client'], validityDays: days },
    },
    client(K8S_CERT.controllerManager, 'system:kube-controller-manager', days),
    client(K8S_CERT.scheduler, 'system:kube-scheduler', days),
    client(K8S_CERT.kubeProxy, 'system:kube-proxy', days),
    client(K8S_CERT.admin, 'kubernetes-admin', days, CLUSTER_ADMINS_GROUP),
    client(K8S_CERT.superAdmin, 'kubernetes-super-admin', days, SYSTEM_MASTERS_GROUP),
    ...kubeletHosts(inv).flatMap((node) => kubeletCerts(node, days)),
  ];
}

/** Everything the cluster's PKI holds: CAs, etcd certs and the Kubernetes certs. */
export function clusterCerts(inv: Inventory): CertSpec[] {
  return [...cas(inv), ...etcdCerts(inv), ...kubernetesCerts(inv)];
}
