/** Where the Kubernetes components keep their files on a host. */
export const K8S_DIR = '/etc/kubernetes';
export const K8S_PKI = `${K8S_DIR}/pki`;

export const K8S_PATHS = {
  caCert: `${K8S_PKI}/ca.crt`,
  caKey: `${K8S_PKI}/ca.key`,
  signingCaCert: `${K8S_PKI}/signing-ca.crt`,
  apiserverCert: `${K8S_PKI}/apiserver.crt`,
  apiserverKey: `${K8S_PKI}/apiserver.key`,
  apiserverKubeletClientCert: `${K8S_PKI}/apiserver-kubelet-client.crt`,
  apiserverKubeletClientKey: `${K8S_PKI}/apiserver-kubelet-client.key`,
  apiserverEtcdClientCert: `${K8S_PKI}/apiserver-etcd-client.crt`,
  apiserverEtcdClientKey: `${K8S_PKI}/apiserver-etcd-client.key`,
  etcdCaCert: `${K8S_PKI}/etcd/ca.crt`,
  frontProxyCaCert: `${K8S_PKI}/front-proxy-ca.crt`,
  frontProxyClientCert: `${K8S_PKI}/front-proxy-client.crt`,
  frontProxyClientKey: `${K8S_PKI}/front-proxy-client.key`,
  serviceAccountKey: `${K8S_PKI}/sa.key`,
  serviceAccountPub: `${K8S_PKI}/sa.pub`,
  encryptionConfig: `${K8S_DIR}/encryption-config.yaml`,
  auditPolicy: `${K8S_DIR}/audit-policy.yaml`,
  auditLog: '/var/log/kubernetes/audit/audit.log',
  adminKubeconfig: `${K8S_DIR}/admin.conf`,
  controllerManagerKubeconfig: `${K8S_DIR}/controller-manager.conf`,
  schedulerKubeconfig: `${K8S_DIR}/scheduler.conf`,
  schedulerConfig: `${K8S_DIR}/kube-scheduler.yaml`,
  kubeletKubeconfig: `${K8S_DIR}/kubelet.conf`,
  kubeletConfig: '/var/lib/kubelet/config.yaml',
  kubeletServingCert: '/var/lib/kubelet/pki/kubelet.crt',
  kubeletServingKey: '/var/lib/kubelet/pki/kubelet.key',
  kubeProxyKubeconfig: `${K8S_DIR}/kube-proxy.conf`,
  kubeProxyConfig: '/var/lib/kube-proxy/config.yaml',
  haproxyConfig: '/etc/haproxy/haproxy.cfg',
  haproxyDropIn: '/etc/systemd/system/haproxy.service.d/kubesmith.conf',
} as const;

export const unitPath = (service: string) => `/etc/systemd/system/${service}.service`;

/** A file a step installs on a host: rendered content and its mode (0600 for keys and credentials). */
export interface HostFile {
  path: string;
  content: string;
  mode: number;
}
