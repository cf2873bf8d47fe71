import type { HostSpec, Inventory } from '../../inventory/schema.js';
import { K8S_CERT, kubeletClientCert } from '../../pki/kubernetes-spec.js';
import { CA } from '../../pki/spec.js';
import type { Pki } from '../../pki/store.js';
import { describeCert } from '../../pki/x509.js';
import { apiServerUrl, renderKubeconfig } from '../kubeconfig.js';
import { apiserverUrl } from './apiserver.js';

export type CertSource = Pick<Pki, 'get' | 'trust'>;

/** A kubeconfig for the identity in pki/<certId>: user named by its CN, server from the inventory. */
export function kubeconfigFor(
  inv: Inventory,
  pki: CertSource,
  certId: string,
  server = apiServerUrl(inv),
): string {
  const pair = pki.get(certId);
  const commonName = describeCert(pair.certPem)
    .subject.split('\n')
    .find((part) => part.startsWith('CN='))
    ?.slice(3);
  if (!commonName) throw new Error(`pki: ${certId} has no common name`);
  return renderKubeconfig({
    clusterName: inv.cluster.name,
    server,
    caPem: pki.trust(CA.kubernetes),
    user: commonName,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
  });
}

export const adminKubeconfig = (inv: Inventory, pki: CertSource) => kubeconfigFor(inv, pki, K8S_CERT.admin);
export const superAdminKubeconfig = (inv: Inventory, pki: CertSource) =>
  kubeconfigFor(inv, pki, K8S_CERT.superAdmin);
/**
 * The controller-manager and the scheduler talk to their own master's apiserver, as kubeadm has
 * them, not through the balancer: while the masters are upgraded one at a time, a new one never
 * talks to an older apiserver (the version-skew policy forbids it).
 */
export const controllerManagerKubeconfig = (inv: Inventory, pki: CertSource, master: HostSpec) =>
  kubeconfigFor(inv, pki, K8S_CERT.controllerManager, apiserverUrl(master));
export const schedulerKubeconfig = (inv: Inventory, pki: CertSource, master: HostSpec) =>
  kubeconfigFor(inv, pki, K8S_CERT.scheduler, apiserverUrl(master));
export const kubeProxyKubeconfig = (inv: Inventory, pki: CertSource) =>
  kubeconfigFor(inv, pki, K8S_CERT.kubeProxy);
export const kubeletKubeconfig = (inv: Inventory, pki: CertSource, node: string) =>
  kubeconfigFor(inv, pki, kubeletClientCert(node));

/**
 * Where a user off the cluster reaches the API: the control-plane endpoint, else the first
 * master's apiserver (the local balancer's 127.0.0.1 exists only on cluster hosts).
 */
export function userServerUrl(inv: Inventory): string {
  const first = inv.hosts.find((h) => h.roles.includes('master'));
  return inv.cluster.controlPlaneEndpoint || !first ? apiServerUrl(inv) : apiserverUrl(first);
}

/**
 * Files for the deploy machine's cluster directory (clusters/<name>/), both 0600: the admin
 * kubeconfig, and the break-glass super-admin one that never leaves the deploy machine.
 */
export function deployMachineKubeconfigs(inv: Inventory, pki: CertSource) {
  const server = userServerUrl(inv);
  return [
    { file: 'kubeconfig', content: kubeconfigFor(inv, pki, K8S_CERT.admin, server), mode: 0o600 },
    {
      file: 'super-admin.kubeconfig',
      content: kubeconfigFor(inv, pki, K8S_CERT.superAdmin, server),
      mode: 0o600,
    },
  ];
}
