import type { Command } from 'commander';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { SNAPSHOT_REQUEST, SNAPSHOT_TAKEN } from '../etcd/run-keys.js';
import { checkDestroyConfirmation, destroyPlan, startPlan, stopPlan } from '../power/plan.js';
import { DESTROY_REQUEST } from '../power/run-keys.js';
import { STEPS } from '../steps/index.js';
import { becomePassword, confirm, globals, interruptSignal } from './cli-helpers.js';
import { type Cluster, openCluster, pickRenderer } from './context.js';
import { runPlaybookCommand } from './run.js';

interface PowerOptions {
  yes?: boolean;
  snapshot: boolean;
  purge?: boolean;
  yesReallyDestroy?: string;
}

async function runPower(opened: Cluster, playbook: string, data: RunData, cmd: Command, signal: AbortSignal) {
  await runCommandPlaybook({
    label: `${playbook} ${opened.loaded.inventory.cluster.name}`,
    playbook,
    paths: opened.paths,
    loaded: opened.loaded,
    registry: STEPS,
    display: pickRenderer(globals(cmd).output, globals(cmd).verbose),
    data,
    becomePassword: await becomePassword(cmd),
    signal,
  });
}

const snapshotOf = (note: string, prune: boolean) => ({ note, prune, safety: false });

async function stop(cluster: string, options: PowerOptions, cmd: Command): Promise<void> {
  const opened = await openCluster(cluster, globals(cmd));
  const inv = opened.loaded.inventory;
  process.stdout.write(`${stopPlan(inv, options.snapshot)}\n`);
  if (!options.yes) await confirm(`type the cluster name (${inv.cluster.name}) to go on: `, inv.cluster.name);
  const data = new RunData();
  if (options.snapshot) data.set(SNAPSHOT_REQUEST, snapshotOf('before stop', true));
  await runPower(opened, 'stop', data, cmd, interruptSignal());
  const taken = data.get(SNAPSHOT_TAKEN);
  process.stdout.write(
    `stopped ${inv.cluster.name}${taken ? `; snapshot ${taken.name}` : ''}; start it with: kubesmith start ${inv.cluster.name}\n`,
  );
}

async function start(cluster: string, cmd: Command): Promise<void> {
  const signal = interruptSignal();
  const opened = await openCluster(cluster, globals(cmd));
  process.stdout.write(`${startPlan(opened.loaded.inventory)}\n`);
  await runPower(opened, 'start', new RunData(), cmd, signal);
  await runPlaybookCommand(await openCluster(cluster, globals(cmd)), 'setup', 'all', {
    ...globals(cmd),
    verifyOnly: true,
    becomePassword: await becomePassword(cmd),
    signal,
  });
}

async function destroy(cluster: string, options: PowerOptions, cmd: Command): Promise<void> {
  const opened = await openCluster(cluster, globals(cmd));
  const inv = opened.loaded.inventory;
  checkDestroyConfirmation(inv, options.yesReallyDestroy);
  const request = { stamp: new Date().toISOString().replace(/[:.]/g, '-'), purge: options.purge ?? false };
  process.stdout.write(
    `${destroyPlan(inv, { ...request, snapshot: options.snapshot, clusterDir: opened.paths.dir })}\n`,
  );
  const data = new RunData();
  data.set(DESTROY_REQUEST, request);
  if (options.snapshot) data.set(SNAPSHOT_REQUEST, snapshotOf('before destroy', false));
  await runPower(opened, 'destroy', data, cmd, interruptSignal());
  const taken = data.get(SNAPSHOT_TAKEN);
  process.stdout.write(
    `destroyed ${inv.cluster.name} on ${inv.hosts.length} host(s)${taken ? `; last snapshot: ${opened.paths.backups}/${taken.name}` : ''}; ${opened.paths.dir}/ kept\n`,
  );
}

/** start, stop, destroy: the cluster's services as a whole. */
export function registerPowerCommands(program: Command): void {
  program
    .command('stop')
    .description(
      'snapshot etcd, then stop kubelet and kube-proxy everywhere, the control plane, and etcd last (pods keep running under containerd)',
    )
    .argument('<cluster>', 'cluster name')
    .option('--no-snapshot', 'skip the etcd snapshot (etcd already down)')
    .option('--yes', 'do not ask for confirmation')
    .action((cluster: string, options: PowerOptions, cmd: Command) => stop(cluster, options, cmd));

  program
    .command('start')
    .description(
      'start etcd (members at once), the control plane, then kubelet and kube-proxy; ends with verify',
    )
    .argument('<cluster>', 'cluster name')
    .action((cluster: string, _options: PowerOptions, cmd: Command) => start(cluster, cmd));

  program
    .command('destroy')
    .description(
      "one last etcd snapshot, then every kubesmith service, file, data dir, pod, mount, interface and iptables chain removed from every host; etcd's data kept aside unless --purge; clusters/<name>/ stays",
    )
    .argument('<cluster>', 'cluster name')
    .option('--yes-really-destroy <cluster-name>', 'the cluster name again: the confirmation')
    .option('--purge', "delete etcd's data on the members instead of keeping it aside")
    .option('--no-snapshot', 'skip the final etcd snapshot (etcd cannot start any more)')
    .action((cluster: string, options: PowerOptions, cmd: Command) => destroy(cluster, options, cmd));
}
