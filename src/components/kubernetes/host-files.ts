import type { HostSpec, Inventory } from '../../inventory/schema.js';
import { K8S_CERT, kubeletServingCert } from '../../pki/kubernetes-spec.js';
import { APISERVER_ETCD_CLIENT, CA } from '../../pki/spec.js';
import type { Pki } from '../../pki/store.js';
import { renderApiserverUnit } from './apiserver.js';
import { renderControllerManagerUnit } from './controller-manager.js';
import { type EncryptionProvider, renderAuditPolicy, renderEncryptionConfig } from './encryption.js';
import { needsLocalBalancer, renderHaproxyConfig, renderHaproxyDropIn } from './haproxy.js';
import { type KubeProxyOptions, renderKubeProxyConfig, renderKubeProxyUnit } from './kube-proxy.js';
import {
  adminKubeconfig,
  controllerManagerKubeconfig,
  kubeletKubeconfig,
  kubeProxyKubeconfig,
  schedulerKubeconfig,
} from './kubeconfigs.js';
import { type KubeletOptions, renderKubeletConfig, renderKubeletUnit } from './kubelet.js';
import { type HostFile, K8S_PATHS as P, unitPath } from './paths.js';
import { renderSchedulerConfig, renderSchedulerUnit } from './scheduler.js';

export type PkiMaterial = Pick<Pki, 'get' | 'trust' | 'serviceAccount'>;

const PUBLIC = 0o644;
const SECRET = 0o600;
const file = (path: string, content: string, mode = PUBLIC): HostFile => ({ path, content, mode });

/** A cert and its key from pki/<id> as two files. */
function pair(pki: PkiMaterial, id: string, certPath: string, keyPath: string): HostFile[] {
  const { certPem, keyPem } = pki.get(id);
  return [file(certPath, certPem), file(keyPath, keyPem, SECRET)];
}

export interface ControlPlaneInput {
  version: string;
  pki: PkiMaterial;
  encryptionKey: Buffer;
  encryptionProvider?: EncryptionProvider;
}

/**
 * What a master gets for kube-apiserver, kube-controller-manager and kube-scheduler: the certs
 * and keys they read (the cluster CA key for CSR signing, no other CA key), the service-account
 * key pair, the encryption config (0600), audit policy, their kubeconfigs, admin.conf and units.
 */
export function controlPlaneFiles(master: HostSpec, inv: Inventory, input: ControlPlaneInput): HostFile[] {
  const { pki, version } = input;
  return [
    file(P.caCert, pki.trust(CA.kubernetes)),
    // The signer needs its one certificate; ca.crt may hold two during a CA rotation.
    file(P.signingCaCert, pki.get(CA.kubernetes).certPem),
    file(P.caKey, pki.get(CA.kubernetes).keyPem, SECRET),
    ...pair(pki, K8S_CERT.apiserver, P.apiserverCert, P.apiserverKey),
    ...pair(pki, K8S_CERT.apiserverKubeletClient, P.apiserverKubeletClientCert, P.apiserverKubeletClientKey),
    file(P.etcdCaCert, pki.trust(CA.etcd)),
    ...pair(pki, APISERVER_ETCD_CLIENT, P.apiserverEtcdClientCert, P.apiserverEtcdClientKey),
    file(P.frontProxyCaCert, pki.trust(CA.frontProxy)),
    ...pair(pki, K8S_CERT.frontProxyClient, P.frontProxyClientCert, P.frontProxyClientKey),
    file(P.serviceAccountKey, pki.serviceAccount.privatePem, SECRET),
    file(P.serviceAccountPub, pki.serviceAccount.publicPem),
    file(P.encryptionConfig, renderEncryptionConfig(input.encryptionKey, input.encryptionProvider), SECRET),
    file(P.auditPolicy, renderAuditPolicy()),
    file(P.adminKubeconfig, adminKubeconfig(inv, pki), SECRET),
    file(P.controllerManagerKubeconfig, controllerManagerKubeconfig(inv, pki, master), SECRET),
    file(P.schedulerKubeconfig, schedulerKubeconfig(inv, pki, master), SECRET),
    file(P.schedulerConfig, renderSchedulerConfig()),
    file(unitPath('kube-apiserver'), renderApiserverUnit(version, master, inv)),
    file(unitPath('kube-controller-manager'), renderControllerManagerUnit(version, master, inv)),
    file(unitPath('kube-scheduler'), renderSchedulerUnit(version, master, inv)),
  ];
}

export interface NodeInput {
  version: string;
  pki: PkiMaterial;
  kubelet: KubeletOptions;
  kubeProxy?: KubeProxyOptions;
}

/** What every kubelet host (masters and nodes) gets for kubelet and kube-proxy. */
export function nodeFiles(host: HostSpec, inv: Inventory, input: NodeInput): HostFile[] {
  const { pki, version } = input;
  return [
    file(P.caCert, pki.trust(CA.kubernetes)),
    ...pair(pki, kubeletServingCert(host.name), P.kubeletServingCert, P.kubeletServingKey),
    file(P.kubeletKubeconfig, kubeletKubeconfig(inv, pki, host.name), SECRET),
    file(P.kubeletConfig, renderKubeletConfig(version, host, inv, input.kubelet)),
    file(unitPath('kubelet'), renderKubeletUnit(version, host, inv)),
    file(P.kubeProxyKubeconfig, kubeProxyKubeconfig(inv, pki), SECRET),
    file(P.kubeProxyConfig, renderKubeProxyConfig(host, inv, input.kubeProxy)),
    file(unitPath('kube-proxy'), renderKubeProxyUnit(version, host, inv)),
  ];
}

/** The local balancer's files on masters and nodes; none when a control-plane endpoint is set. */
export function balancerFiles(inv: Inventory): HostFile[] {
  if (!needsLocalBalancer(inv)) return [];
  return [file(P.haproxyConfig, renderHaproxyConfig(inv)), file(P.haproxyDropIn, renderHaproxyDropIn())];
}

/**
 * Everything Kubernetes puts on one host: control-plane files on masters, node files on masters
 * and nodes, the balancer's where it runs. A path two parts share (ca.crt) appears once; two
 * different contents for one path are a bug and throw (naming the path, never the content).
 */
export function kubernetesHostFiles(
  host: HostSpec,
  inv: Inventory,
  input: Omit<ControlPlaneInput, 'version'> & Omit<NodeInput, 'version'> & { version: string },
): HostFile[] {
  const isMaster = host.roles.includes('master');
  const isNode = isMaster || host.roles.includes('node');
  const all = [
    ...(isMaster ? controlPlaneFiles(host, inv, input) : []),
    ...(isNode ? nodeFiles(host, inv, input) : []),
    ...(isNode ? balancerFiles(inv) : []),
  ];
  const byPath = new Map<string, HostFile>();
  for (const f of all) {
    const seen = byPath.get(f.path);
    if (seen && (seen.content !== f.content || seen.mode !== f.mode))
      throw new Error(`kubernetes files: ${f.path} rendered twice with different content`);
    byPath.set(f.path, f);
  }
  return [...byPath.values()];
}
