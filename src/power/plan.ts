import { InputError } from '../errors.js';
import type { Inventory, Role } from '../inventory/schema.js';
import { hostPaths } from '../nodes/footprint.js';

const names = (inv: Inventory, ...roles: Role[]) =>
  inv.hosts.filter((h) => h.roles.some((r) => roles.includes(r))).map((h) => h.name);

const list = (hosts: string[]) => (hosts.length ? hosts.join(', ') : '(no host)');

export function stopPlan(inv: Inventory, snapshot: boolean): string {
  return [
    `stop plan for cluster ${inv.cluster.name} (in this order; units disabled, so a reboot keeps them stopped):`,
    snapshot
      ? `  1. etcd snapshot from a healthy member to the deploy machine's backups/`
      : '  1. no etcd snapshot (--no-snapshot)',
    `  2. kubelet, kube-proxy stopped on ${list(names(inv, 'master', 'node'))}; pods keep running under containerd`,
    `  3. kube-scheduler, kube-controller-manager, kube-apiserver stopped on ${list(names(inv, 'master'))}`,
    `  4. etcd stopped on ${list(names(inv, 'etcd'))}`,
    `  start it again with: kubesmith start ${inv.cluster.name}`,
  ].join('\n');
}

export function startPlan(inv: Inventory): string {
  return [
    `start plan for cluster ${inv.cluster.name} (in this order):`,
    `  1. etcd started on ${list(names(inv, 'etcd'))} at once, each healthy`,
    `  2. kube-apiserver, kube-controller-manager, kube-scheduler started on ${list(names(inv, 'master'))}, each healthy`,
    `  3. kube-proxy, kubelet started on ${list(names(inv, 'master', 'node'))}; every node Ready`,
    "  4. CoreDNS's pods replaced (its watch of the API would come back only after its backoff)",
    '  5. verify',
  ].join('\n');
}

/** destroy's confirmation: the cluster's own name, checked before any host is touched. */
export function checkDestroyConfirmation(inv: Inventory, given: string | undefined): void {
  if (given === inv.cluster.name) return;
  throw new InputError(
    given === undefined
      ? `destroy refused: it removes cluster ${inv.cluster.name} from every host; confirm with --yes-really-destroy ${inv.cluster.name}`
      : `destroy refused: --yes-really-destroy '${given}' does not name this cluster (${inv.cluster.name}); nothing was changed`,
  );
}

export function destroyPlan(
  inv: Inventory,
  options: { purge: boolean; snapshot: boolean; clusterDir: string; stamp: string },
): string {
  const { etcd } = inv;
  const aside = [etcd.dataDir, ...(etcd.walDir ? [etcd.walDir] : [])].map(
    (d) => `${d}/kubesmith-removed-${options.stamp}`,
  );
  return [
    `destroy plan for cluster ${inv.cluster.name}:`,
    options.snapshot
      ? `  1. etcd started if stopped, one last snapshot to ${options.clusterDir}/backups/`
      : '  1. NO final etcd snapshot (--no-snapshot)',
    `  2. on ${list(inv.hosts.map((h) => h.name))}: kubelet, kube-proxy, the pods, containerd, haproxy, the control plane and etcd stopped and disabled;`,
    '     mounts below the kubelet and containerd dirs, CNI interfaces and kube-proxy/CNI iptables chains removed;',
    `     ${hostPaths(inv, options.purge).length} paths removed (units, binaries in ${inv.artifacts.binDir}, configs, /etc/kubernetes, CNI state, data dirs)`,
    options.purge
      ? `  3. etcd's data on ${list(names(inv, 'etcd'))} DELETED (--purge)`
      : `  3. etcd's data on ${list(names(inv, 'etcd'))} kept aside at ${aside.join(' and ')} (delete it yourself, or use --purge)`,
    `  kept on this machine: ${options.clusterDir}/ (inventory, pki, backups)`,
  ].join('\n');
}
