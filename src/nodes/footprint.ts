import { CONTAINERD_PATHS } from '../components/containerd.js';
import { ETCD_PATHS } from '../components/etcd.js';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import { K8S_DIR, K8S_PATHS, unitPath } from '../components/kubernetes/paths.js';
import { CLUSTER_MARKER } from '../hostlib/marker.js';
import type { Inventory } from '../inventory/schema.js';
import { CHRONY } from '../os/time-sync.js';

/**
 * Everything setup puts on a worker, as del-node (and destroy) take it away again: the units,
 * the files and directories, where pods leave mounts, the network interfaces and the iptables
 * chains the CNI plugin and kube-proxy create. The e2e test checks a removed host against it.
 */
export const NODE_UNITS = ['kubelet', 'kube-proxy', 'haproxy', 'containerd'] as const;

/** Processes that must be gone once the units are stopped (the runtime's shims included). */
export const NODE_PROCESSES = ['kubelet', 'kube-proxy', 'haproxy', 'containerd', 'containerd-shim-runc-v2'];

/**
 * Mounts pods and the runtime leave, by prefix: below the data dirs (a data dir that is itself a
 * mount, a disk of its own, stays), and the CNI plugin's network namespaces (others' stay).
 */
export const MOUNT_PREFIXES = [
  '/var/lib/kubelet/',
  '/var/lib/containerd/',
  '/run/containerd/',
  '/run/netns/cni-',
];

/** Interfaces by name; veths of pods go with their network namespaces. */
export const NODE_INTERFACES = [
  'cni0',
  'flannel.1',
  'flannel-v6.1',
  'flannel-wg',
  'kube-ipvs0',
  'nodelocaldns',
  'vxlan.calico',
  'vxlan-v6.calico',
];
export const INTERFACE_PREFIXES = ['cali'];

export const CHAIN_PREFIXES = ['KUBE-', 'FLANNEL-', 'CNI-', 'cali-'];

/** prepare's own configuration files (the OS settings they hold end with them at the next boot). */
export const PREPARE_FILES = [
  '/etc/sysctl.d/95-kubesmith.conf',
  '/etc/modules-load.d/kubesmith.conf',
  '/etc/systemd/journald.conf.d/95-kubesmith.conf',
  '/etc/security/limits.d/95-kubesmith.conf',
];

/** Files and directories removed from a worker, in no particular order. */
export function nodePaths(inv: Inventory): string[] {
  return [
    ...['kubelet', 'kube-proxy'].map(unitPath),
    CONTAINERD_PATHS.unit,
    // The balancer's files only where kubesmith runs it (with a control-plane endpoint haproxy is the user's).
    ...(needsLocalBalancer(inv) ? ['/etc/systemd/system/haproxy.service.d', K8S_PATHS.haproxyConfig] : []),
    K8S_DIR,
    '/var/lib/kubelet',
    '/var/lib/kube-proxy',
    '/etc/containerd',
    CONTAINERD_PATHS.crictl,
    '/var/lib/containerd',
    '/run/containerd',
    '/opt/cni',
    '/etc/cni',
    '/var/lib/cni',
    '/run/flannel',
    '/var/log/pods',
    '/var/log/containers',
    '/var/lib/kubesmith',
    inv.artifacts.binDir,
    CLUSTER_MARKER.slice(0, CLUSTER_MARKER.lastIndexOf('/')),
    ...PREPARE_FILES,
  ];
}

/** The control plane's units on a master, in the order stop takes them (start: the reverse). */
export const CONTROL_PLANE_UNITS = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver'] as const;

/** The kubelet's and kube-proxy's units, on every host with the node or master role. */
export const KUBELET_UNITS = ['kubelet', 'kube-proxy'] as const;

export const ETCD_UNIT = 'etcd';

/** Processes of a master or an etcd member that must be gone once destroy stopped them. */
export const MASTER_PROCESSES = [...CONTROL_PLANE_UNITS, ETCD_UNIT];

/** What setup puts on a master besides a worker's footprint (kube-master's units, the audit log). */
export function masterPaths(): string[] {
  return [...CONTROL_PLANE_UNITS.map(unitPath), '/var/log/kubernetes'];
}

/**
 * What setup puts on an etcd member besides its data: the unit and /etc/etcd (its certificates
 * and keys). The data dir and the WAL dir are kept aside unless purged (see etcd/data-swap.ts).
 */
export function etcdPaths(inv: Inventory, purge: boolean): string[] {
  return [
    ETCD_PATHS.unit,
    ETCD_PATHS.pki.slice(0, ETCD_PATHS.pki.lastIndexOf('/')),
    ...(purge ? [inv.etcd.dataDir, ...(inv.etcd.walDir ? [inv.etcd.walDir] : [])] : []),
  ];
}

/** Everything destroy removes from a host, whatever its roles (a path that is not there costs nothing). */
export function hostPaths(inv: Inventory, purge: boolean): string[] {
  return [...nodePaths(inv), ...masterPaths(), ...etcdPaths(inv, purge), CHRONY.debianSources];
}
