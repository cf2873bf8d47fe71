import type { Command } from 'commander';
import { runCommandPlaybook } from '../engine/command-run.js';
import { RunData } from '../engine/run-data.js';
import { StepFailedError } from '../errors.js';
import { SNAPSHOT_REQUEST, SNAPSHOT_TAKEN } from '../etcd/run-keys.js';
import { parseDuration } from '../nodes/plan.js';
import { STEPS } from '../steps/index.js';
import { markUpgradeFinished } from '../upgrade/marker.js';
import { inventoryAt, maxUnavailable, upgradeBatches, upgradePlan, upgradeTarget } from '../upgrade/plan.js';
import {
  UPGRADE_BATCH,
  UPGRADE_INVENTORY_BACKUP,
  UPGRADE_PENDING,
  UPGRADE_REQUEST,
} from '../upgrade/run-keys.js';
import { becomePassword, globals, interruptSignal } from './cli-helpers.js';
import { type Cluster, openCluster, pickRenderer } from './context.js';
import { approve, preflightOf, verifyAfter } from './day2.js';

interface UpgradeOptions {
  to: string;
  maxUnavailable?: string;
  drainTimeout: string;
  force?: boolean;
  yes?: boolean;
}

async function upgrade(opened: Cluster, options: UpgradeOptions, cmd: Command): Promise<void> {
  const current = opened.loaded;
  const to = upgradeTarget(current.inventory.cluster.kubernetesVersion, options.to);
  const workers = current.inventory.hosts.filter(
    (h) => h.roles.includes('node') && !h.roles.includes('master'),
  );
  const batchSize = maxUnavailable(options.maxUnavailable, workers.length);
  const drainTimeoutMs = parseDuration('--drain-timeout', options.drainTimeout);
  const force = options.force ?? false;
  const { text, loaded } = await inventoryAt(current, to);
  await approve(
    upgradePlan(current, to, { maxUnavailable: batchSize, drainTimeoutMs, force }),
    loaded.inventory.cluster.name,
    options.yes,
  );
  const data = new RunData();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  data.set(UPGRADE_REQUEST, { to, inventoryText: text, stamp, force, drainTimeoutMs });
  data.set(SNAPSHOT_REQUEST, { note: `before upgrade to ${to}`, prune: true, safety: false });
  const common = {
    paths: opened.paths,
    loaded,
    registry: STEPS,
    display: pickRenderer(globals(cmd).output, globals(cmd).verbose),
    data,
    becomePassword: await becomePassword(cmd),
    signal: interruptSignal(),
  };
  await runCommandPlaybook({
    ...common,
    label: `upgrade --to ${to}`,
    playbook: 'upgrade',
    hostPreflight: preflightOf(loaded),
  });
  const batches = upgradeBatches(loaded.inventory.hosts, data.need(UPGRADE_PENDING), batchSize);
  for (const names of batches) {
    data.set(UPGRADE_BATCH, { names, force, drainTimeoutMs });
    await runCommandPlaybook({
      ...common,
      label: `upgrade --to ${to}: ${names.join(' ')}`,
      playbook: 'upgrade-node',
      targets: names,
    }).catch((error: unknown) => {
      if (!(error instanceof StepFailedError)) throw error;
      throw new StepFailedError(
        error.failures,
        `${names.join(', ')} stay cordoned; fix what failed there and run 'kubesmith upgrade ${loaded.inventory.cluster.name} --to ${to}' again: it resumes with the nodes not done, the others are left as they are`,
      );
    });
  }
  await markUpgradeFinished(opened.paths.dir);
  const kept = data.get(UPGRADE_INVENTORY_BACKUP);
  const message = `upgraded to ${to}: the control plane, and the kubelets of ${batches.flat().join(', ') || 'no host (all were at the target)'}; snapshot ${data.get(SNAPSHOT_TAKEN)?.name ?? 'none'}${kept ? `; the previous inventory is at ${kept}` : ''}`;
  if (globals(cmd).output === 'json')
    process.stdout.write(`${JSON.stringify({ type: 'result', message })}\n`);
  else process.stdout.write(`${message}\n`);
}

export function registerUpgradeCommand(program: Command): void {
  program
    .command('upgrade')
    .description(
      'upgrade Kubernetes one minor at a time: the control plane one master at a time, then each node cordoned, drained, upgraded and uncordoned; a re-run resumes; ends with verify',
    )
    .argument('<cluster>', 'cluster name')
    .requiredOption('--to <version>', 'the target version (1.35.4): the same minor or the next one')
    .option(
      '--max-unavailable <n>',
      'workers upgraded at once: a count (2) or a share (10%); default 1 or 10%',
    )
    .option(
      '--drain-timeout <duration>',
      'how long PodDisruptionBudgets may hold a drain up (90s, 5m, 1h)',
      '5m',
    )
    .option('--force', 'delete pods without a controller, and pods still blocked at the drain timeout')
    .option('--yes', 'do not ask for confirmation')
    .action(async (cluster: string, options: UpgradeOptions, cmd: Command) => {
      const signal = interruptSignal();
      await upgrade(await openCluster(cluster, globals(cmd)), options, cmd);
      await verifyAfter(cluster, cmd, signal);
    });
}
