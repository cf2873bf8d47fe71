import { sh } from '../transport/quote.js';
import type { SshConnection } from '../transport/ssh.js';
import { clearPendingShell, DAEMON_RELOAD, isUnitPath, unitName } from './pending.js';
import type { Observed } from './probe.js';
import type { ActionResult, Resource, ServiceResource } from './resources.js';

export function serviceActions(
  service: ServiceResource,
  seen: Observed,
  changedPaths: ReadonlySet<string>,
): string[] {
  const actions: string[] = [];
  const unitFileState = seen.get('UnitFileState') ?? '';
  const active = seen.get('ActiveState') === 'active';
  if (service.enabled !== undefined) {
    const isEnabled = unitFileState === 'enabled' || unitFileState === 'static';
    if (service.enabled && !isEnabled) actions.push('enable');
    if (!service.enabled && unitFileState === 'enabled') actions.push('disable');
  }
  if (service.state === 'started') {
    if (!active) actions.push('start');
    else if (seen.has('pending') || service.restartOn?.some((p) => changedPaths.has(p)))
      actions.push('restart');
    else if (service.reloadOn?.some((p) => changedPaths.has(p))) actions.push('reload');
  } else if (active) actions.push('stop');
  return actions;
}

/** What the service batch needs to know of one apply. */
export interface ServiceBatch {
  conn: SshConnection;
  resources: readonly Resource[];
  observed: Observed[];
  /** Pending markers found by the probe (a daemon-reload owed by an earlier run, ...). */
  pending: ReadonlySet<string>;
  changedPaths: ReadonlySet<string>;
  results: ActionResult[];
  /** Services whose beforeRestart already ran in this apply. */
  guarded: Set<number>;
  dryRun: boolean;
  signal?: AbortSignal;
}

/**
 * Indexes of the services that this apply would restart or reload, as planned so far. A reload
 * lost with the run is owed like a restart (the next run restarts: its files no longer differ).
 */
export function restartsDue(batch: Omit<ServiceBatch, 'conn' | 'results'>): number[] {
  return batch.resources.flatMap((r, index) => {
    if (r.kind !== 'service') return [];
    const actions = serviceActions(r, batch.observed[index] ?? new Map(), batch.changedPaths);
    return actions.includes('restart') || actions.includes('reload') ? [index] : [];
  });
}

/** Runs each due restart's beforeRestart once (never in dry-run); a refusal throws before anything changes. */
export async function guardRestarts(batch: Omit<ServiceBatch, 'conn' | 'results'>): Promise<void> {
  if (batch.dryRun) return;
  for (const index of restartsDue(batch)) {
    if (batch.guarded.has(index)) continue;
    batch.guarded.add(index);
    await (batch.resources[index] as ServiceResource).beforeRestart?.();
  }
}

/**
 * The markers the install script writes before files move: the restarts due so far and the
 * daemon-reload a changed unit file needs. Removed by the service batch once done.
 */
export function pendingMarkers(batch: Omit<ServiceBatch, 'conn' | 'results'>): string[] {
  const names = restartsDue(batch).map((index) => unitName((batch.resources[index] as ServiceResource).name));
  if ([...batch.changedPaths].some(isUnitPath)) names.unshift(DAEMON_RELOAD);
  return names;
}

/** One systemctl batch: daemon-reload when a unit changed (or one is owed), then each service's actions. */
export async function runServices(batch: ServiceBatch): Promise<void> {
  const { resources, observed, changedPaths, results } = batch;
  const lines: string[] = [];
  const touched: number[] = [];
  await guardRestarts(batch);
  for (const [index, r] of resources.entries()) {
    if (r.kind !== 'service') continue;
    const seen = observed[index] ?? new Map();
    const actions = serviceActions(r, seen, changedPaths);
    const unit = unitName(r.name);
    const owed = seen.has('pending') || batch.pending.has(unit);
    if (actions.length === 0 && !owed) continue;
    if (actions.length) {
      touched.push(index);
      results[index]!.status = 'changed';
      const fromEarlierRun = seen.has('pending') && !r.restartOn?.some((p) => changedPaths.has(p));
      results[index]!.detail =
        `${actions.join(', ')}${fromEarlierRun && actions.includes('restart') ? ' (owed by an earlier run that stopped before it)' : ''}`;
    }
    for (const action of actions) {
      const noBlock = r.noBlock && (action === 'start' || action === 'restart') ? ['--no-block'] : [];
      lines.push(sh`systemctl ${[action, ...noBlock]} ${unit}`);
    }
    lines.push(clearPendingShell(unit));
  }
  const reload = [...changedPaths].some(isUnitPath) || batch.pending.has(DAEMON_RELOAD);
  if ((lines.length === 0 && !reload) || batch.dryRun) return;
  const t = performance.now();
  const script = [
    'set -e',
    ...(reload ? ['systemctl daemon-reload', clearPendingShell(DAEMON_RELOAD)] : []),
    ...lines,
  ];
  await batch.conn.run(['sh', '-c', script.join('\n')], { signal: batch.signal });
  const elapsed = Math.round(performance.now() - t);
  for (const index of touched) results[index]!.durationMs += elapsed;
}
