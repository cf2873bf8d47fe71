import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { withoutRole } from '../inventory/edit.js';
import { type LoadedInventory, parseInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';

/**
 * The checks of add-node and del-node that need no host: every name an inventory host whose only
 * role is node (masters and etcd members have their own commands), no name twice.
 */
export function workersNamed(command: string, loaded: LoadedInventory, names: readonly string[]): HostSpec[] {
  const problems: string[] = [];
  if (new Set(names).size !== names.length) problems.push('a host is named twice');
  const hosts = names.map((name) => {
    const host = loaded.inventory.hosts.find((h) => h.name === name);
    if (!host)
      problems.push(
        `${name} is not a host in ${loaded.file}${command === 'add-node' ? ': add it there with role node first' : ''}`,
      );
    else if (!host.roles.includes('node'))
      problems.push(`${name} does not have the node role in ${loaded.file}`);
    else if (host.roles.some((r) => r !== 'node'))
      problems.push(
        `${name} is also ${host.roles.filter((r) => r !== 'node').join(' and ')}: ${command} takes workers only (masters: add-master/del-master, etcd members: add-etcd/del-etcd)`,
      );
    return host;
  });
  if (problems.length) throw new InputError(`${command} refused: ${problems.join('; ')}`);
  return hosts as HostSpec[];
}

/** The inventory text without the workers, checked now so a bad result stops the command before any host. */
export async function inventoryWithoutWorkers(
  loaded: LoadedInventory,
  names: readonly string[],
): Promise<string> {
  const text = withoutRole(await readFile(loaded.file, 'utf8'), names, 'node', loaded.file);
  await parseInventory(text, loaded.file).catch((error: unknown) => {
    if (error instanceof InputError)
      throw new InputError(
        `del-node refused: the inventory without ${names.join(', ')} would not be valid`,
        error.problems,
        { cause: error },
      );
    throw error;
  });
  return text;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as 90s, 5m or 1h (a bare number is seconds), in milliseconds. */
export function parseDuration(option: string, text: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match || Number(match[1]) === 0)
    throw new InputError(`${option} takes a duration such as 90s, 5m or 1h, not '${text}'`);
  return Number(match[1]) * UNITS[match[2] ?? 's']!;
}

export function addNodePlan(loaded: LoadedInventory, names: readonly string[]): string {
  const others = loaded.inventory.hosts.filter((h) => !names.includes(h.name)).map((h) => h.name);
  return [
    `add-node plan for cluster ${loaded.inventory.cluster.name}:`,
    ...names.map(
      (n) =>
        `  ${n}: OS preparation, containerd and its images, kubelet, kube-proxy${loaded.inventory.cluster.controlPlaneEndpoint ? '' : ', the local balancer'}; waits until Ready`,
    ),
    `  ${others.join(', ')}: the /etc/hosts block only; nothing restarts`,
    '  then: the labels and taints of the new nodes, the pod network on them, verify',
  ].join('\n');
}

export function delNodePlan(
  loaded: LoadedInventory,
  names: readonly string[],
  options: { force: boolean; drainTimeoutMs: number; unreachable: boolean },
): string {
  const drain = options.unreachable
    ? 'not drained (--unreachable): the Node objects are deleted and their pods recreated elsewhere; the hosts are left as they are'
    : `cordoned and drained (PodDisruptionBudgets respected, up to ${options.drainTimeoutMs / 1000} s${options.force ? '; then, with --force, pods still blocked and pods without a controller are deleted' : ''}); every kubesmith service stopped and disabled, its files, mounts, interfaces and iptables chains removed`;
  return [
    `del-node plan for cluster ${loaded.inventory.cluster.name}:`,
    ...names.map((n) => `  ${n}: ${drain}`),
    `  the Node objects deleted; ${loaded.file} without them (the previous file kept beside it)`,
    '  other hosts: the /etc/hosts block only; then verify',
  ].join('\n');
}
