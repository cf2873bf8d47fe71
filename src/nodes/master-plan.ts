import { InputError } from '../errors.js';
import type { LoadedInventory } from '../inventory/load.js';

/** del-master's guard before any host: at least one master stays. */
export function refuseLastMaster(loaded: LoadedInventory, names: readonly string[]): void {
  const staying = loaded.inventory.hosts.filter((h) => h.roles.includes('master') && !names.includes(h.name));
  if (staying.length === 0)
    throw new InputError('del-master refused: it would remove the last master, and the cluster with it');
}

export function addMasterPlan(loaded: LoadedInventory, names: readonly string[]): string {
  const inv = loaded.inventory;
  const running = inv.hosts
    .filter((h) => h.roles.includes('master') && !names.includes(h.name))
    .map((h) => h.name);
  const balancers = inv.cluster.controlPlaneEndpoint === '';
  return [
    `add-master plan for cluster ${inv.cluster.name}:`,
    '  first: an etcd snapshot to the deploy machine',
    ...names.map(
      (n) =>
        `  ${n}: OS preparation, containerd and its images, kube-apiserver, controller-manager, scheduler, kubelet, kube-proxy`,
    ),
    `  ${running.join(', ')}: the apiserver certificate reissued with the new names, taken up by the running apiserver without a restart, one master at a time, each presenting it before the next`,
    balancers
      ? '  every other host: its local balancer given the new masters, reloaded one host at a time; its /etc/hosts block'
      : '  every other host: its /etc/hosts block',
    '  then: the new nodes labelled and tainted as masters, the pod network on them, verify',
  ].join('\n');
}

export function delMasterPlan(
  loaded: LoadedInventory,
  names: readonly string[],
  drainTimeoutMs: number,
): string {
  const inv = loaded.inventory;
  const staying = inv.hosts
    .filter((h) => h.roles.includes('master') && !names.includes(h.name))
    .map((h) => h.name);
  return [
    `del-master plan for cluster ${inv.cluster.name}:`,
    '  first: an etcd snapshot to the deploy machine',
    `  ${staying.join(', ')}: the control plane configured for the masters that stay, one at a time (the apiserver takes up its new certificate without a restart); the deploy machine's kubeconfigs name ${staying[0]}`,
    inv.cluster.controlPlaneEndpoint === ''
      ? '  every other host: its local balancer without the leaving masters, reloaded one host at a time'
      : '  the control-plane endpoint is yours: take the leaving masters out of its balancer',
    ...names.map(
      (n) =>
        `  ${n}: cordoned and drained (up to ${drainTimeoutMs / 1000} s); the control plane, kubelet, kube-proxy, the pods, containerd and the balancer stopped and disabled; every file, mount, interface and iptables chain kubesmith made removed`,
    ),
    `  the Node objects deleted; ${loaded.file} without them (the previous file kept beside it); then verify`,
  ].join('\n');
}
