import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { runData } from '../engine/run-data.js';
import type { PreflightContext } from '../engine/step.js';
import { InputError } from '../errors.js';
import { UPGRADE_REQUEST } from './run-keys.js';

const MARKER = 'upgrade-in-progress.json';
const markerSchema = z.object({ to: z.string(), startedAt: z.string() });

/** Written with the inventory at the target; removed when every node is done. */
export async function markUpgradeStarted(clusterDir: string, to: string): Promise<void> {
  const file = join(clusterDir, MARKER);
  if (existsSync(file)) return;
  await writeFile(file, `${JSON.stringify({ to, startedAt: new Date().toISOString() })}\n`, { mode: 0o600 });
}

export async function markUpgradeFinished(clusterDir: string): Promise<void> {
  await rm(join(clusterDir, MARKER), { force: true });
}

/**
 * While an upgrade is unfinished the inventory names the target, but nodes still run the old
 * version: any other run of the control-plane or node steps would give them the new one at once,
 * undrained. Refused (before any host changes) unless the run is the upgrade itself or a dry run.
 */
export async function refuseDuringUpgrade(ctx: PreflightContext): Promise<void> {
  const file = join(ctx.clusterDir, MARKER);
  if (ctx.dryRun || runData(ctx.shared).get(UPGRADE_REQUEST) || !existsSync(file)) return;
  const marker = markerSchema.safeParse(JSON.parse(await readFile(file, 'utf8').catch(() => '{}')));
  const to = marker.success ? marker.data.to : ctx.inventory.cluster.kubernetesVersion;
  throw new InputError(
    `an upgrade to ${to}${marker.success ? ` (begun ${marker.data.startedAt})` : ''} is unfinished: this run would give the nodes not upgraded yet the new version at once, without draining them; finish it first: kubesmith upgrade ${ctx.inventory.cluster.name} --to ${to} (the record is ${file})`,
  );
}
