import type { Command } from 'commander';
import { FACTS_SCRIPT, factsByHost } from '../facts.js';
import type { LoadedInventory } from '../inventory/load.js';
import { refusals } from '../preflight.js';
import { becomePassword, confirm, globals } from './cli-helpers.js';
import { openCluster } from './context.js';
import { runPlaybookCommand } from './run.js';

/** What the node and master commands share: the host checks, the plan's confirmation, the final verify. */

/** The checks setup makes of every host before any step (another cluster's marker among them). */
export const preflightOf = (loaded: LoadedInventory) => ({
  script: FACTS_SCRIPT,
  judge: (outputs: Parameters<typeof factsByHost>[0]) => refusals(loaded.inventory, factsByHost(outputs)),
});

/** The plan on stdout, then a typed confirmation unless --yes. */
export async function approve(plan: string, cluster: string, yes: boolean | undefined): Promise<void> {
  process.stdout.write(`${plan}\n`);
  if (!yes) await confirm(`type the cluster name (${cluster}) to go on: `, cluster);
}

/** Every day-2 command ends as setup does: verify, with the inventory as it is now. */
export async function verifyAfter(
  cluster: string | undefined,
  cmd: Command,
  signal: AbortSignal,
): Promise<void> {
  const opened = await openCluster(cluster, globals(cmd));
  await runPlaybookCommand(opened, 'setup', 'all', {
    ...globals(cmd),
    verifyOnly: true,
    becomePassword: await becomePassword(cmd),
    signal,
  });
}
