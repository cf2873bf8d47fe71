import { render } from '../../engine/template.js';
import { urlHost } from '../../inventory/net.js';
import type { HostSpec, Inventory } from '../../inventory/schema.js';
import { clientEndpoints } from '../etcd.js';
import { APISERVER_PORT } from '../kubeconfig.js';
import { K8S_PATHS } from './paths.js';
import { flagLines } from './unit.js';

/** Rotation of the audit log: days kept, files kept, megabytes per file. */
export const AUDIT_LOG_ROTATION = { maxAgeDays: 30, maxBackups: 10, maxSizeMb: 100 } as const;

/** The issuer of service-account tokens (also their default audience), as kubeadm names it. */
export const serviceAccountIssuer = (inv: Inventory) =>
  `https://kubernetes.default.svc.${inv.cluster.network.dnsDomain}`;

/** Longer than the local balancers' health checks take to mark an apiserver down (haproxy.cfg: inter 1s fall 2). */
const SHUTDOWN_DELAY_SECONDS = 5;

/**
 * kube-apiserver's command line on one master: bound to the host's address on 6443 (the local
 * balancer holds 127.0.0.1:6443), etcd over mTLS, Node and RBAC authorization, NodeRestriction,
 * Secrets encrypted at rest, an audit log that rotates, and the aggregation-layer flags.
 */
export function apiserverFlags(_version: string, master: HostSpec, inv: Inventory): string[] {
  const net = inv.cluster.network;
  return [
    `--advertise-address=${master.address}`,
    `--bind-address=${master.address}`,
    `--secure-port=${APISERVER_PORT}`,
    '--allow-privileged=true',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--client-ca-file=${K8S_PATHS.caCert}`,
    `--tls-cert-file=${K8S_PATHS.apiserverCert}`,
    `--tls-private-key-file=${K8S_PATHS.apiserverKey}`,
    '--tls-min-version=VersionTLS12',
    `--etcd-servers=${clientEndpoints(inv).join(',')}`,
    `--etcd-cafile=${K8S_PATHS.etcdCaCert}`,
    `--etcd-certfile=${K8S_PATHS.apiserverEtcdClientCert}`,
    `--etcd-keyfile=${K8S_PATHS.apiserverEtcdClientKey}`,
    `--encryption-provider-config=${K8S_PATHS.encryptionConfig}`,
    `--service-account-issuer=${serviceAccountIssuer(inv)}`,
    `--service-account-key-file=${K8S_PATHS.serviceAccountPub}`,
    `--service-account-signing-key-file=${K8S_PATHS.serviceAccountKey}`,
    `--service-cluster-ip-range=${net.serviceCidr}`,
    `--service-node-port-range=${net.nodePortRange}`,
    `--kubelet-certificate-authority=${K8S_PATHS.caCert}`,
    `--kubelet-client-certificate=${K8S_PATHS.apiserverKubeletClientCert}`,
    `--kubelet-client-key=${K8S_PATHS.apiserverKubeletClientKey}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    `--proxy-client-cert-file=${K8S_PATHS.frontProxyClientCert}`,
    `--proxy-client-key-file=${K8S_PATHS.frontProxyClientKey}`,
    `--requestheader-client-ca-file=${K8S_PATHS.frontProxyCaCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--audit-policy-file=${K8S_PATHS.auditPolicy}`,
    `--audit-log-path=${K8S_PATHS.auditLog}`,
    `--audit-log-maxage=${AUDIT_LOG_ROTATION.maxAgeDays}`,
    `--audit-log-maxbackup=${AUDIT_LOG_ROTATION.maxBackups}`,
    `--audit-log-maxsize=${AUDIT_LOG_ROTATION.maxSizeMb}`,
    '--profiling=false',
    // Stopping, it fails /readyz but keeps serving this long: every local balancer (a check each
    // second, down after two) takes it out before its listener closes, and back only once ready.
    `--shutdown-delay-duration=${SHUTDOWN_DELAY_SECONDS}s`,
    // Then requests still arriving get 429 with Retry-After (clients retry, the balancers send
    // them elsewhere) until those in flight are done, and open watches are closed 2 s later: a
    // stop takes about 7 s. Without it the HTTP server waits up to 60 s for watches that never
    // end on their own, and systemd kills it at TimeoutStopSec (30 s) on every restart.
    '--shutdown-send-retry-after=true',
  ];
}

/** The https URL of one master's own apiserver (what the balancer and readiness checks talk to). */
export const apiserverUrl = (master: HostSpec) => `https://${urlHost(master.address)}:${APISERVER_PORT}`;

export function renderApiserverUnit(version: string, master: HostSpec, inv: Inventory): string {
  return render('kube-apiserver/kube-apiserver.service', {
    host: master.name,
    cluster: inv.cluster.name,
    version,
    binary: `${inv.artifacts.binDir}/kube-apiserver`,
    flagLines: flagLines(apiserverFlags(version, master, inv)),
  });
}
