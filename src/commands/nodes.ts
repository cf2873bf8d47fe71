import type { Command } from 'commander';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { InputError } from '../errors.js';
import {
  addNodePlan,
  delNodePlan,
  inventoryWithoutWorkers,
  parseDuration,
  workersNamed,
} from '../nodes/plan.js';
import { DRAIN_RESULT, HOSTS_DROPPED, NODE_INVENTORY_BACKUP, NODE_LEAVE_REQUEST } from '../nodes/run-keys.js';
import { STEPS } from '../steps/index.js';
import { becomePassword, globals, interruptSignal } from './cli-helpers.js';
import { type Cluster, openCluster, pickRenderer } from './context.js';
import { approve, preflightOf, verifyAfter } from './day2.js';

export interface NodeCommandOptions {
  yes?: boolean;
  force?: boolean;
  drainTimeout: string;
  unreachable?: boolean;
}

async function addNode(opened: Cluster, names: string[], options: NodeCommandOptions, cmd: Command) {
  const { loaded } = opened;
  workersNamed('add-node', loaded, names);
  await approve(addNodePlan(loaded, names), loaded.inventory.cluster.name, options.yes);
  await runCommandPlaybook({
    label: `add-node ${names.join(' ')}`,
    playbook: 'add-node',
    paths: opened.paths,
    loaded,
    targets: names,
    registry: STEPS,
    display: pickRenderer(globals(cmd).output, globals(cmd).verbose),
    data: new RunData(),
    hostPreflight: preflightOf(loaded),
    becomePassword: await becomePassword(cmd),
    signal: interruptSignal(),
  });
}

async function delNode(opened: Cluster, names: string[], options: NodeCommandOptions, cmd: Command) {
  const { loaded } = opened;
  workersNamed('del-node', loaded, names);
  const drainTimeoutMs = parseDuration('--drain-timeout', options.drainTimeout);
  const workersLeft = loaded.inventory.hosts.filter(
    (h) => h.roles.includes('node') && !h.roles.includes('master') && !names.includes(h.name),
  );
  if (workersLeft.length === 0 && !options.force)
    throw new InputError(
      'del-node refused: it would remove every worker, leaving workloads only the masters (tainted NoSchedule) to run on; --force to do it anyway',
    );
  await inventoryWithoutWorkers(loaded, names);
  const request = {
    names,
    force: options.force ?? false,
    drainTimeoutMs,
    unreachable: options.unreachable ?? false,
    roles: ['node'],
    stamp: new Date().toISOString().replace(/[:.]/g, '-'),
  };
  await approve(delNodePlan(loaded, names, request), loaded.inventory.cluster.name, options.yes);
  const data = new RunData();
  data.set(NODE_LEAVE_REQUEST, request);
  data.set(HOSTS_DROPPED, names);
  await runCommandPlaybook({
    label: `del-node ${names.join(' ')}`,
    playbook: 'del-node',
    paths: opened.paths,
    loaded,
    targets: names,
    // --unreachable: the hosts are not connected at all, whether they answer or not.
    ...(request.unreachable
      ? { only: loaded.inventory.hosts.filter((h) => !names.includes(h.name)).map((h) => h.name) }
      : {}),
    registry: STEPS,
    display: pickRenderer(globals(cmd).output, globals(cmd).verbose),
    data,
    // A host another cluster claims (its marker) is refused before anything is removed from it.
    hostPreflight: preflightOf(loaded),
    becomePassword: await becomePassword(cmd),
    signal: interruptSignal(),
  });
  const drained = data.get(DRAIN_RESULT);
  process.stdout.write(
    `removed ${names.join(', ')}${drained?.deleted.length ? `; pods deleted with --force: ${drained.deleted.join(', ')}` : ''}; the previous inventory is at ${data.need(NODE_INVENTORY_BACKUP)}\n`,
  );
}

/** add-node, del-node: workers joining and leaving a running cluster. */
export function registerNodeCommands(program: Command): void {
  program
    .command('add-node')
    .description(
      'join workers that have the node role in the inventory but are not in the cluster yet; ends with verify',
    )
    .argument('<cluster>', 'cluster name')
    .argument('<hosts...>', 'host names (role node in the inventory)')
    .option('--yes', 'do not ask for confirmation')
    .action(async (cluster: string, hosts: string[], options: NodeCommandOptions, cmd: Command) => {
      const signal = interruptSignal();
      await addNode(await openCluster(cluster, globals(cmd)), hosts, options, cmd);
      await verifyAfter(cluster, cmd, signal);
    });

  program
    .command('del-node')
    .description(
      'drain workers, clean every kubesmith service and file off them, delete their Node objects and drop them from the inventory; ends with verify',
    )
    .argument('<cluster>', 'cluster name')
    .argument('<hosts...>', 'host names (workers)')
    .option(
      '--drain-timeout <duration>',
      'how long PodDisruptionBudgets may hold the drain up (90s, 5m, 1h)',
      '5m',
    )
    .option('--force', 'delete pods without a controller, and pods still blocked at the drain timeout')
    .option(
      '--unreachable',
      'the hosts are gone: only delete their Node objects and drop them from the inventory',
    )
    .option('--yes', 'do not ask for confirmation')
    .action(async (cluster: string, hosts: string[], options: NodeCommandOptions, cmd: Command) => {
      const signal = interruptSignal();
      await delNode(await openCluster(cluster, globals(cmd)), hosts, options, cmd);
      await verifyAfter(cluster, cmd, signal);
    });
}
