import { ETCD_PATHS } from '../components/etcd.js';
import { K8S_PATHS } from '../components/kubernetes/paths.js';
import type { HostSpec } from '../inventory/schema.js';
import { K8S_CERT, kubeletClientCert, kubeletServingCert } from '../pki/kubernetes-spec.js';
import {
  APISERVER_ETCD_CLIENT,
  CA,
  ETCD_KUBESMITH_CLIENT,
  etcdPeerCert,
  etcdServerCert,
} from '../pki/spec.js';

/**
 * A certificate a host holds: a PEM file, or the client certificate embedded in a kubeconfig.
 * `id` names its copy in the deploy machine's PKI store (pki/<id>.crt).
 */
export interface HostCertFile {
  path: string;
  kind: 'pem' | 'kubeconfig';
  id: string;
  /** The setup step that installs it (and restarts what reads it). */
  part: CertPart;
}

export type CertPart = 'etcd' | 'kube-master' | 'kube-node';

const pem = (part: CertPart, path: string, id: string): HostCertFile => ({ path, kind: 'pem', id, part });
const kubeconfig = (part: CertPart, path: string, id: string): HostCertFile => ({
  path,
  kind: 'kubeconfig',
  id,
  part,
});

/** What the etcd step installs on a member (src/steps/etcd.ts). */
function etcdFiles(host: HostSpec): HostCertFile[] {
  return [
    pem('etcd', ETCD_PATHS.ca, CA.etcd),
    pem('etcd', ETCD_PATHS.serverCert, etcdServerCert(host.name)),
    pem('etcd', ETCD_PATHS.peerCert, etcdPeerCert(host.name)),
    pem('etcd', ETCD_PATHS.clientCert, ETCD_KUBESMITH_CLIENT),
  ];
}

/** What kube-master installs (components/kubernetes/host-files.ts controlPlaneFiles). */
function masterFiles(): HostCertFile[] {
  return [
    pem('kube-master', K8S_PATHS.signingCaCert, CA.kubernetes),
    pem('kube-master', K8S_PATHS.apiserverCert, K8S_CERT.apiserver),
    pem('kube-master', K8S_PATHS.apiserverKubeletClientCert, K8S_CERT.apiserverKubeletClient),
    pem('kube-master', K8S_PATHS.apiserverEtcdClientCert, APISERVER_ETCD_CLIENT),
    pem('kube-master', K8S_PATHS.etcdCaCert, CA.etcd),
    pem('kube-master', K8S_PATHS.frontProxyCaCert, CA.frontProxy),
    pem('kube-master', K8S_PATHS.frontProxyClientCert, K8S_CERT.frontProxyClient),
    kubeconfig('kube-master', K8S_PATHS.adminKubeconfig, K8S_CERT.admin),
    kubeconfig('kube-master', K8S_PATHS.controllerManagerKubeconfig, K8S_CERT.controllerManager),
    kubeconfig('kube-master', K8S_PATHS.schedulerKubeconfig, K8S_CERT.scheduler),
  ];
}

/** What kube-node installs on every kubelet host (nodeFiles). */
function nodeFiles(host: HostSpec): HostCertFile[] {
  return [
    pem('kube-node', K8S_PATHS.kubeletServingCert, kubeletServingCert(host.name)),
    kubeconfig('kube-node', K8S_PATHS.kubeletKubeconfig, kubeletClientCert(host.name)),
    kubeconfig('kube-node', K8S_PATHS.kubeProxyKubeconfig, K8S_CERT.kubeProxy),
  ];
}

/** Every certificate kubesmith puts on this host, by its roles, each path once. */
export function hostCertFiles(host: HostSpec): HostCertFile[] {
  const isMaster = host.roles.includes('master');
  const isKubeletHost = isMaster || host.roles.includes('node');
  return [
    ...(host.roles.includes('etcd') ? etcdFiles(host) : []),
    ...(isKubeletHost ? [pem('kube-node', K8S_PATHS.caCert, CA.kubernetes)] : []),
    ...(isMaster ? masterFiles() : []),
    ...(isKubeletHost ? nodeFiles(host) : []),
  ];
}
