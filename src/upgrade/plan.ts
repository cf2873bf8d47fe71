import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputError } from '../errors.js';
import { type LoadedInventory, parseInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';

/** A Kubernetes version as numbers: 1.35.4 (or v1.35.4) -> [1, 35, 4]; undefined when not one. */
export function versionParts(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * The target of `upgrade --to`, checked against the inventory's version before any host: a
 * version, not lower than the current one, at most one minor above it (the control plane goes
 * one minor at a time: the version-skew policy). The same version resumes an upgrade.
 */
export function upgradeTarget(current: string, to: string): string {
  const target = versionParts(to);
  const from = versionParts(current);
  if (!target) throw new InputError(`upgrade refused: --to ${to} is not a version like 1.35.4`);
  if (!from)
    throw new InputError(`upgrade refused: the inventory's kubernetesVersion ${current} is not a version`);
  const version = target.join('.');
  if (compare(target, from) < 0)
    throw new InputError(
      `upgrade refused: --to ${version} is lower than the cluster's ${current}; kubesmith does not downgrade (restore a backup taken before the upgrade instead)`,
    );
  if (target[0] !== from[0] || target[1] - from[1] > 1)
    throw new InputError(
      `upgrade refused: --to ${version} skips a minor: the cluster runs ${current}, and the control plane may only go one minor at a time; upgrade to ${from[0]}.${from[1] + 1} first`,
    );
  return version;
}

/** --max-unavailable: a count (1) or a share of the workers (10%), at least 1. */
export function maxUnavailable(text: string | undefined, workers: number): number {
  if (text === undefined) return Math.max(1, Math.floor(workers / 10));
  const match = /^(\d+)(%?)$/.exec(text.trim());
  const value = match ? Number(match[1]) : 0;
  if (!match || value < 1 || (match[2] && value > 100))
    throw new InputError(
      `upgrade refused: --max-unavailable ${text} must be a count of at least 1 (2) or a share of the workers (10%)`,
    );
  return match[2] ? Math.max(1, Math.floor((workers * value) / 100)) : value;
}

/** The kubelets to upgrade, in the order they go: masters one at a time, then workers in batches. */
export function upgradeBatches(
  hosts: readonly HostSpec[],
  pending: readonly string[],
  size: number,
): string[][] {
  const isPending = (h: HostSpec) => pending.includes(h.name);
  const masters = hosts.filter((h) => isPending(h) && h.roles.includes('master')).map((h) => [h.name]);
  const workers = hosts.filter((h) => isPending(h) && !h.roles.includes('master')).map((h) => h.name);
  const batches = [...masters];
  for (let i = 0; i < workers.length; i += size) batches.push(workers.slice(i, i + size));
  return batches;
}

/** The inventory's text with cluster.kubernetesVersion set to the target (comments kept), checked now. */
export async function inventoryAt(
  loaded: LoadedInventory,
  version: string,
): Promise<{ text: string; loaded: LoadedInventory }> {
  const doc = parseDocument(await readFile(loaded.file, 'utf8'));
  doc.setIn(['cluster', 'kubernetesVersion'], version);
  const text = doc.toString();
  const parsed = await parseInventory(text, loaded.file).catch((error: unknown) => {
    if (error instanceof InputError)
      throw new InputError(
        `upgrade refused: the inventory at ${version} would not be valid`,
        error.problems,
        {
          cause: error,
        },
      );
    throw error;
  });
  return { text, loaded: parsed };
}

export function upgradePlan(
  loaded: LoadedInventory,
  to: string,
  options: { maxUnavailable: number; drainTimeoutMs: number; force: boolean },
): string {
  const { inventory } = loaded;
  const masters = inventory.hosts.filter((h) => h.roles.includes('master')).map((h) => h.name);
  const workers = inventory.hosts
    .filter((h) => h.roles.includes('node') && !h.roles.includes('master'))
    .map((h) => h.name);
  return [
    `upgrade plan for cluster ${inventory.cluster.name}: Kubernetes ${inventory.cluster.kubernetesVersion} -> ${to}`,
    '  first, from the API: every node and the control plane checked against the version-skew policy; nodes already at the target are left alone (a re-run resumes)',
    `  an etcd snapshot; then ${loaded.file}: kubernetesVersion ${to} (the previous file kept beside it); the target's images imported on every host`,
    `  masters ${masters.join(', ')}: kube-apiserver, kube-controller-manager, kube-scheduler, one master at a time, each healthy before the next`,
    `  then each node's kubelet and kube-proxy: masters one at a time, then workers ${workers.join(', ') || '(none)'} ${options.maxUnavailable} at a time: cordon, drain (PodDisruptionBudgets respected, up to ${options.drainTimeoutMs / 1000} s${options.force ? '; --force deletes pods without a controller and pods still blocked' : ''}), upgrade, wait Ready at ${to}, uncordon (a node cordoned before stays so), wait for its DaemonSets' pods`,
    '  containerd, the CNI plugins and the addons stay as they are; then verify',
    `  a failure stops the upgrade at that host (left cordoned); fix it and run the same command again`,
  ].join('\n');
}
