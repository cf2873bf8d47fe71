import { readFile } from 'node:fs/promises';
import { etcdMembers } from '../components/etcd.js';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { InputError } from '../errors.js';
import { INVENTORY_BACKUP, JOIN_NAMES, LEAVE_REQUEST } from '../etcd/run-keys.js';
import { withoutRole } from '../inventory/edit.js';
import { type LoadedInventory, parseInventory } from '../inventory/load.js';
import { STEPS } from '../steps/index.js';
import type { Day2Options } from './backup.js';
import type { Cluster } from './context.js';

export interface MembershipOptions extends Day2Options {
  force?: boolean;
  purge?: boolean;
}

/**
 * Runs playbooks/add-etcd.yaml: the named hosts must have the etcd role in the inventory (the
 * source of truth). Plan and guard (src/steps/etcd-join-plan.ts), a snapshot, each host joining
 * in turn (etcd-join), then every member re-rendered by the etcd step, one restart at a time.
 */
export async function addEtcd(cluster: Cluster, names: string[], options: MembershipOptions): Promise<void> {
  const loaded = cluster.loaded;
  const wanted = etcdMembers(loaded.inventory);
  const missingRole = names.filter((n) => !wanted.some((h) => h.name === n));
  if (missingRole.length)
    throw new InputError(
      `give ${missingRole.join(', ')} the etcd role in ${loaded.file} first, then run add-etcd (the inventory stays the source of truth)`,
    );
  const data = new RunData();
  data.set(JOIN_NAMES, names);
  await runCommandPlaybook({
    label: `add-etcd ${names.join(' ')}`,
    playbook: 'add-etcd',
    paths: cluster.paths,
    loaded,
    registry: STEPS,
    display: options.display,
    data,
    becomePassword: options.becomePassword,
    signal: options.signal,
  });
}

/** The inventory after the removal, validated now (before any member is removed). */
export async function inventoryWithout(
  cluster: Cluster,
  names: string[],
): Promise<{ text: string; next: LoadedInventory }> {
  const { file } = cluster.loaded;
  const text = withoutRole(await readFile(file, 'utf8'), names, 'etcd', file);
  // An even count is the quorum guard's call (refused unless --force), not the inventory's.
  const next = await parseInventory(text, file, { allowEvenEtcd: true }).catch((error: unknown) => {
    if (error instanceof InputError)
      throw new InputError(
        `del-etcd refused: the inventory without ${names.join(', ')} as etcd would not be valid`,
        error.problems,
        { cause: error },
      );
    throw error;
  });
  return { text, next };
}

/**
 * Runs playbooks/del-etcd.yaml after the checks that need no host (names, the inventory after the
 * removal): plan and quorum guard, a snapshot, members removed one at a time, the removed hosts
 * retired, the inventory without their role (a copy of the old one kept), and the remaining
 * members re-rendered. The run works with the inventory after the removal, limited to the etcd
 * hosts before it, so the last phase renders the membership that stays.
 */
export async function delEtcd(
  cluster: Cluster,
  names: string[],
  options: MembershipOptions,
): Promise<{ inventoryBackup: string }> {
  const inventory = cluster.loaded.inventory;
  const all = etcdMembers(inventory);
  const notInInventory = names.filter((n) => !all.some((h) => h.name === n));
  if (notInInventory.length)
    throw new InputError(
      `del-etcd refused: ${notInInventory.join(', ')} ${notInInventory.length === 1 ? 'is' : 'are'} not an etcd host in ${cluster.loaded.file}`,
    );
  if (all.every((h) => names.includes(h.name)))
    throw new InputError('del-etcd refused: it would leave no etcd member: the cluster would be gone');
  const { text, next } = await inventoryWithout(cluster, names);
  const data = new RunData();
  data.set(LEAVE_REQUEST, {
    names,
    force: options.force ?? false,
    purge: options.purge ?? false,
    before: inventory,
    inventoryText: text,
  });
  await runCommandPlaybook({
    label: `del-etcd ${names.join(' ')}`,
    playbook: 'del-etcd',
    paths: cluster.paths,
    loaded: next,
    only: all.map((h) => h.name),
    // Removing a dead member is what del-etcd is for: a removed host that cannot be reached is left out.
    mayBeUnreachable: names,
    registry: STEPS,
    display: options.display,
    data,
    becomePassword: options.becomePassword,
    signal: options.signal,
  });
  return { inventoryBackup: data.need(INVENTORY_BACKUP) };
}
