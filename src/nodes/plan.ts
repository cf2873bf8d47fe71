import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { withoutRole } from '../inventory/edit.js';
import { type LoadedInventory, parseInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';

/**
 * The checks of add-node/del-node (role node) and add-master/del-master (role master) that need
 * no host: every name an inventory host with the role and no role another command owns (masters
 * for the node commands, etcd membership for all of them), no name twice.
 */
export function hostsNamed(
  command: string,
  loaded: LoadedInventory,
  names: readonly string[],
  role: 'node' | 'master',
): HostSpec[] {
  const problems: string[] = [];
  const others = role === 'node' ? ['master', 'etcd'] : ['etcd'];
  if (new Set(names).size !== names.length) problems.push('a host is named twice');
  const hosts = names.map((name) => {
    const host = loaded.inventory.hosts.find((h) => h.name === name);
    if (!host)
      problems.push(
        `${name} is not a host in ${loaded.file}${command.startsWith('add-') ? `: add it there with role ${role} first` : ''}`,
      );
    else if (!host.roles.includes(role))
      problems.push(`${name} does not have the ${role} role in ${loaded.file}`);
    else if (host.roles.some((r) => others.includes(r)))
      problems.push(
        `${name} is also ${host.roles.filter((r) => others.includes(r)).join(' and ')}: ${command} takes ${role === 'node' ? 'workers' : 'masters that are not etcd members'} only (masters: add-master/del-master, etcd members: add-etcd/del-etcd, whose quorum guard comes first)`,
      );
    return host;
  });
  if (problems.length) throw new InputError(`${command} refused: ${problems.join('; ')}`);
  return hosts as HostSpec[];
}

export const workersNamed = (command: string, loaded: LoadedInventory, names: readonly string[]) =>
  hostsNamed(command, loaded, names, 'node');

/** The inventory text without the hosts' roles (a host left with none is removed), checked now so a bad result stops the command before any host. */
export async function inventoryWithout(
  command: string,
  loaded: LoadedInventory,
  names: readonly string[],
  roles: readonly string[],
): Promise<string> {
  let text = await readFile(loaded.file, 'utf8');
  for (const role of roles) text = withoutRole(text, names, role, loaded.file);
  await parseInventory(text, loaded.file).catch((error: unknown) => {
    if (error instanceof InputError)
      throw new InputError(
        `${command} refused: the inventory without ${names.join(', ')} would not be valid`,
        error.problems,
        { cause: error },
      );
    throw error;
  });
  return text;
}

export const inventoryWithoutWorkers = (loaded: LoadedInventory, names: readonly string[]) =>
  inventoryWithout('del-node', loaded, names, ['node']);

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
    `  ${others.join(', ')}: the /etc/hosts block only; no service restarts`,
    "  then, through the API: every node's labels and taints as the inventory says (as setup does), the pod network's objects applied again (unchanged unless kubesmith's manifest changed), verify",
  ].join('\n');
}

export function delNodePlan(
  loaded: LoadedInventory,
  names: readonly string[],
  options: { force: boolean; drainTimeoutMs: number; unreachable: boolean },
): string {
  const drain = options.unreachable
    ? 'not drained (--unreachable): the Node objects are deleted and their pods recreated elsewhere; the hosts are not contacted and left as they are (a kubelet still running there holds a valid certificate and would register again: stop it)'
    : `cordoned and drained (PodDisruptionBudgets respected, up to ${options.drainTimeoutMs / 1000} s${options.force ? '; then, with --force, pods still blocked and pods without a controller are deleted' : ''}); every kubesmith service stopped and disabled, its files, mounts, interfaces and iptables chains removed`;
  return [
    `del-node plan for cluster ${loaded.inventory.cluster.name}:`,
    ...names.map((n) => `  ${n}: ${drain}`),
    `  the Node objects deleted; ${loaded.file} without them (the previous file kept beside it)`,
    '  other hosts: the /etc/hosts block only; then verify',
  ].join('\n');
}
