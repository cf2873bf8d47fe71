import type { Command } from 'commander';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { SNAPSHOT_REQUEST } from '../etcd/run-keys.js';
import { parseInventory } from '../inventory/load.js';
import { addMasterPlan, delMasterPlan, refuseLastMaster } from '../nodes/master-plan.js';
import { hostsNamed, inventoryWithout, parseDuration } from '../nodes/plan.js';
import { HOSTS_DROPPED, NODE_INVENTORY_BACKUP, NODE_LEAVE_REQUEST } from '../nodes/run-keys.js';
import { STEPS } from '../steps/index.js';
import { becomePassword, globals, interruptSignal } from './cli-helpers.js';
import { type Cluster, openCluster, pickRenderer } from './context.js';
import { approve, preflightOf, verifyAfter } from './day2.js';
import type { NodeCommandOptions } from './nodes.js';

const snapshotBefore = (what: string) => ({ note: `before ${what}`, prune: true, safety: false });

async function addMaster(opened: Cluster, names: string[], options: NodeCommandOptions, cmd: Command) {
  const { loaded } = opened;
  hostsNamed('add-master', loaded, names, 'master');
  await approve(addMasterPlan(loaded, names), loaded.inventory.cluster.name, options.yes);
  const data = new RunData();
  data.set(SNAPSHOT_REQUEST, snapshotBefore(`add-master ${names.join(' ')}`));
  await runCommandPlaybook({
    label: `add-master ${names.join(' ')}`,
    playbook: 'add-master',
    paths: opened.paths,
    loaded,
    targets: names,
    registry: STEPS,
    display: pickRenderer(globals(cmd).output, globals(cmd).verbose),
    data,
    hostPreflight: preflightOf(loaded),
    becomePassword: await becomePassword(cmd),
    signal: interruptSignal(),
  });
}

/**
 * del-master in two runs: first, with the inventory after the removal, the masters that stay and
 * every balancer configured without the leaving ones (a snapshot first); then del-node's playbook
 * on the leaving masters (drain, retire, Node objects, inventory, /etc/hosts).
 */
async function delMaster(opened: Cluster, names: string[], options: NodeCommandOptions, cmd: Command) {
  const { loaded } = opened;
  hostsNamed('del-master', loaded, names, 'master');
  refuseLastMaster(loaded, names);
  const drainTimeoutMs = parseDuration('--drain-timeout', options.drainTimeout);
  const roles = ['master', 'node'];
  const after = await parseInventory(await inventoryWithout('del-master', loaded, names, roles), loaded.file);
  await approve(delMasterPlan(loaded, names, drainTimeoutMs), loaded.inventory.cluster.name, options.yes);
  const display = pickRenderer(globals(cmd).output, globals(cmd).verbose);
  const signal = interruptSignal();
  const reconcile = new RunData();
  reconcile.set(SNAPSHOT_REQUEST, snapshotBefore(`del-master ${names.join(' ')}`));
  await runCommandPlaybook({
    label: `del-master ${names.join(' ')}`,
    playbook: 'master-reconcile',
    paths: opened.paths,
    loaded: after,
    registry: STEPS,
    display,
    data: reconcile,
    becomePassword: await becomePassword(cmd),
    signal,
  });
  const data = new RunData();
  data.set(NODE_LEAVE_REQUEST, {
    names,
    force: options.force ?? false,
    drainTimeoutMs,
    unreachable: false,
    roles,
    stamp: new Date().toISOString().replace(/[:.]/g, '-'),
  });
  data.set(HOSTS_DROPPED, names);
  // The leaving masters are workers for this run: the certificates it checks (the apiserver's
  // names) are those of the masters that stay, as the first run installed them.
  const asWorkers = {
    ...loaded,
    inventory: {
      ...loaded.inventory,
      hosts: loaded.inventory.hosts.map((h) =>
        names.includes(h.name) ? { ...h, roles: ['node' as const] } : h,
      ),
    },
  };
  await runCommandPlaybook({
    label: `del-master ${names.join(' ')}`,
    playbook: 'del-node',
    paths: opened.paths,
    loaded: asWorkers,
    targets: names,
    registry: STEPS,
    display,
    data,
    hostPreflight: preflightOf(asWorkers),
    becomePassword: await becomePassword(cmd),
    signal,
  });
  process.stdout.write(
    `removed ${names.join(', ')}; the previous inventory is at ${data.need(NODE_INVENTORY_BACKUP)}\n`,
  );
}

/** add-master, del-master: masters that are not etcd members joining and leaving a running cluster. */
export function registerMasterCommands(program: Command): void {
  program
    .command('add-master')
    .description(
      'join masters (role master, not etcd members) from the inventory: a snapshot first, the running masters and every balancer updated one host at a time; ends with verify',
    )
    .argument('<cluster>', 'cluster name')
    .argument('<hosts...>', 'host names (role master in the inventory)')
    .option('--yes', 'do not ask for confirmation')
    .action(async (cluster: string, hosts: string[], options: NodeCommandOptions, cmd: Command) => {
      const signal = interruptSignal();
      await addMaster(await openCluster(cluster, globals(cmd)), hosts, options, cmd);
      await verifyAfter(cluster, cmd, signal);
    });

  program
    .command('del-master')
    .description(
      'remove masters that are not etcd members (never the last): a snapshot, the masters that stay and every balancer without them, then drained and cleaned like del-node; ends with verify',
    )
    .argument('<cluster>', 'cluster name')
    .argument('<hosts...>', 'host names')
    .option(
      '--drain-timeout <duration>',
      'how long PodDisruptionBudgets may hold the drain up (90s, 5m, 1h)',
      '5m',
    )
    .option('--force', 'delete pods without a controller, and pods still blocked at the drain timeout')
    .option('--yes', 'do not ask for confirmation')
    .action(async (cluster: string, hosts: string[], options: NodeCommandOptions, cmd: Command) => {
      const signal = interruptSignal();
      await delMaster(await openCluster(cluster, globals(cmd)), hosts, options, cmd);
      await verifyAfter(cluster, cmd, signal);
    });
}
