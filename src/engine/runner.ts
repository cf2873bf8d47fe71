import { archOf } from '../artifacts/catalog.js';
import { InputError, InterruptedError } from '../errors.js';
import type { LoadedInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';
import { applyResources } from './apply.js';
import { runDeployStep } from './deploy-step.js';
import type { ErrorInfo, EventSink, HostStatus, HostSummary, PlannedStep, RunSummary } from './events.js';
import { excuseUnreachable } from './excused.js';
import { mapLimit } from './limit.js';
import { hostsFor, type PlaybookEntry } from './playbook.js';
import { type ConnectOutput, errorInfo, HostPool } from './pool.js';
import { rebootHost } from './reboot.js';
import { type AnyStep, isDeployStep, type RunContext, type StepContext } from './step.js';

export interface RunOptions {
  command: string;
  loaded: LoadedInventory;
  clusterDir: string;
  knownHostsFile: string;
  entries: readonly PlaybookEntry[];
  registry: ReadonlyMap<string, AnyStep>;
  sink: EventSink;
  dryRun?: boolean;
  /** Only run each step's read-only verify(); steps without one are skipped. */
  verifyOnly?: boolean;
  signal?: AbortSignal;
  /** Limit the run to these hosts (names). */
  only?: readonly string[];
  /** The hosts the command names: entries with `targets` run only on them, or on all but them. */
  targets?: readonly string[];
  /**
   * Go on without hosts that cannot be reached, when every one of them is a worker (the node
   * role alone); they are reported as skipped. Any other connect failure still stops the run.
   */
  skipUnreachable?: boolean;
  /** Hosts the run may go on without when they cannot be reached (see excuseUnreachable). */
  mayBeUnreachable?: readonly string[];
  concurrency?: number;
  becomePassword?: string;
  logFile?: string;
  /** End the run after a step that failed on any host (day-2 phases build on the ones before). */
  stopAtFailure?: boolean;
  /** Run-wide data to start with (e.g. how members join, for add-etcd). */
  shared?: ReadonlyMap<string, unknown>;
  /**
   * Checks of the hosts themselves before any step: `script` runs in the connect command on
   * every host; `judge` gets every host's output at once and returns the hosts it refuses, with
   * why. One refused host stops the run before anything changes anywhere.
   */
  hostPreflight?: {
    script: string;
    judge(outputs: ReadonlyMap<string, ConnectOutput>): Map<string, string>;
  };
}

interface Planned {
  step: AnyStep;
  hosts: HostSpec[];
}

export function planRun(
  options: Pick<RunOptions, 'entries' | 'registry' | 'loaded' | 'only' | 'targets'>,
): Planned[] {
  return options.entries.map((entry) => {
    const step = options.registry.get(entry.step);
    if (!step)
      throw new InputError(`playbook names step '${entry.step}', which does not exist in src/steps/`);
    return { step, hosts: hostsFor(entry, options.loaded.inventory, options.only, options.targets) };
  });
}

/** Whether a host is a worker only: nothing else depends on it being reached in this run. */
export function isWorkerOnly(host: HostSpec): boolean {
  return host.roles.length > 0 && host.roles.every((role) => role === 'node');
}

/**
 * Why --skip-unreachable may not leave out each of these failed hosts (empty: it may leave
 * out all of them). Only hosts that could not be reached at all, and only workers: an etcd
 * member or a master left out would leave the control plane half-configured.
 */
export function skipRefusals(
  failed: Iterable<string>,
  unreachable: ReadonlySet<string>,
  hosts: readonly HostSpec[],
): Map<string, string> {
  const refusals = new Map<string, string>();
  for (const name of failed) {
    const host = hosts.find((h) => h.name === name);
    if (!unreachable.has(name))
      refusals.set(
        name,
        'not skipped: it answered but the connection failed (--skip-unreachable skips only hosts that cannot be reached)',
      );
    else if (!host || !isWorkerOnly(host))
      refusals.set(
        name,
        `not skipped: it is ${host?.roles.join(' and ') ?? 'not in the inventory'} (--skip-unreachable skips only hosts whose only role is node)`,
      );
  }
  return refusals;
}

/**
 * Runs steps in playbook order. Within a step, hosts run in parallel up to the
 * concurrency limit; the next step starts when every host has finished. A host that
 * fails stops there; the others go on. Every host is connected (and sudo checked)
 * before anything changes.
 */
export async function runPlaybook(options: RunOptions): Promise<RunSummary> {
  const { sink, loaded } = options;
  const dryRun = options.dryRun ?? false;
  const signal = options.signal ?? new AbortController().signal;
  const concurrency = options.concurrency ?? loaded.inventory.ssh.concurrency;
  const plan = planRun(options);
  const started = performance.now();
  const plannedSteps: PlannedStep[] = plan.map((p) => ({
    id: p.step.id,
    title: p.step.title,
    hosts: p.hosts.map((h) => h.name),
  }));
  sink({
    type: 'run-start',
    command: options.command,
    cluster: loaded.inventory.cluster.name,
    dryRun,
    steps: plannedSteps,
    logFile: options.logFile,
  });

  const involved = loaded.inventory.hosts.filter((h) => plan.some((p) => p.hosts.includes(h)));
  const summaries = new Map<string, HostSummary>(
    involved.map((h) => [h.name, { host: h.name, status: 'ok', changed: 0, commands: 0, bytesUploaded: 0 }]),
  );
  const pool = await HostPool.connect(loaded, involved, {
    knownHostsFile: options.knownHostsFile,
    concurrency,
    becomePassword: options.becomePassword,
    signal,
    onConnect: (host, durationMs, error) =>
      sink({ type: 'connect', host, ok: !error, durationMs, ...(error ? { error } : {}) }),
    connectScript: options.hostPreflight?.script,
    onWarning: (message) => sink({ type: 'run-log', message: `warning: ${message}` }),
  });
  const finish = (): RunSummary => {
    for (const s of summaries.values()) {
      if (pool.has(s.host)) {
        const stats = pool.get(s.host).stats;
        s.commands = stats.commands;
        s.bytesUploaded = stats.bytesUploaded;
      }
    }
    pool.close();
    const hosts = [...summaries.values()];
    const summary: RunSummary = {
      hosts,
      changed: hosts.reduce((n, h) => n + h.changed, 0),
      failed: hosts.filter((h) => h.status === 'failed').length,
      interrupted: signal.aborted,
    };
    sink({
      type: 'run-end',
      ok: summary.failed === 0 && !summary.interrupted,
      durationMs: Math.round(performance.now() - started),
      summary,
    });
    return summary;
  };

  if (options.mayBeUnreachable) excuseUnreachable(pool, options.mayBeUnreachable, summaries, sink);
  if (pool.failures.size > 0) {
    const refusals = options.skipUnreachable
      ? skipRefusals(pool.failures.keys(), pool.unreachable, involved)
      : undefined;
    if (!refusals || refusals.size > 0) {
      for (const [host, error] of pool.failures) {
        const why = refusals?.get(host);
        Object.assign(summaries.get(host)!, {
          status: 'failed',
          failedStep: 'connect',
          error: why ? { ...error, message: `${error.message}; ${why}` } : error,
        });
      }
      return finish();
    }
    for (const [host, error] of pool.failures)
      Object.assign(summaries.get(host)!, {
        status: 'skipped',
        failedStep: 'connect',
        error: { ...error, message: `unreachable, skipped (--skip-unreachable): ${error.message}` },
      });
    sink({
      type: 'run-log',
      // In inventory order: the failures arrive in whatever order the connections failed.
      message: `skipping unreachable worker(s) ${[...summaries.keys()].filter((h) => pool.failures.has(h)).join(', ')} (--skip-unreachable): they get nothing from this run; run it again once they are back`,
    });
  }

  const refused = options.hostPreflight?.judge(pool.connectOutputs) ?? new Map<string, string>();
  if (refused.size > 0) {
    for (const [host, message] of refused)
      Object.assign(summaries.get(host)!, { status: 'failed', failedStep: 'preflight', error: { message } });
    return finish();
  }

  const shared = new Map<string, unknown>(options.shared ?? []);
  const runCtx: RunContext = {
    inventory: loaded.inventory,
    inventoryFile: loaded.file,
    clusterDir: options.clusterDir,
    dryRun,
    signal,
    shared,
    log: (message) => sink({ type: 'run-log', message }),
  };
  try {
    const arches = new Set([...pool.machines.values()].map(archOf));
    for (const { step } of plan) if (!options.verifyOnly) await step.preflight?.({ ...runCtx, arches });
  } catch (error) {
    const info = errorInfo(error);
    for (const s of summaries.values())
      Object.assign(s, { status: 'failed', failedStep: 'preflight', error: info });
    return finish();
  }

  for (const { step, hosts } of plan) {
    if (signal.aborted) break;
    if (options.stopAtFailure && [...summaries.values()].some((s) => s.status === 'failed')) break;
    const readOnly = isDeployStep(step) && step.readOnly === true;
    const runnable = hosts.filter((h) => {
      const status = summaries.get(h.name)?.status;
      return status !== 'skipped' && (readOnly ? !pool.failures.has(h.name) : status !== 'failed');
    });
    if (isDeployStep(step)) {
      // Deploy-machine steps change the cluster; verify runs only the read-only ones.
      if (options.verifyOnly && !readOnly) continue;
      await runDeployStep({ step, hosts: runnable, runCtx, pool, summaries, sink });
      continue;
    }
    const stepStarted = performance.now();
    sink({ type: 'step-start', step: step.id, title: step.title, hosts: runnable.map((h) => h.name) });
    await mapLimit(
      runnable,
      step.allHostsAtOnce ? Math.max(runnable.length, 1) : concurrency,
      async (host) => {
        const summary = summaries.get(host.name)!;
        // After an interrupt nothing new starts; verify skips steps that have no checks.
        if (signal.aborted || (options.verifyOnly && !step.verify)) {
          sink({
            type: 'host-end',
            step: step.id,
            host: host.name,
            status: 'skipped',
            changed: 0,
            durationMs: 0,
          });
          return;
        }
        sink({ type: 'host-start', step: step.id, host: host.name });
        const hostStarted = performance.now();
        let changed = 0;
        const log = (message: string) => sink({ type: 'host-log', step: step.id, host: host.name, message });
        const ctx: StepContext = {
          ...runCtx,
          host,
          get conn() {
            return pool.get(host.name);
          },
          log,
          read: (argv, execOptions) => pool.get(host.name).run(argv, { signal, ...execOptions }),
          reboot: async ({ timeoutMs = 600_000 } = {}) => {
            if (options.verifyOnly) throw new Error(`step ${step.id}: verify must not reboot`);
            changed++;
            if (dryRun) return log('would reboot');
            const rebootStarted = performance.now();
            log('rebooting');
            pool.replace(host.name, await rebootHost(pool.get(host.name), { timeoutMs, signal }));
            log(`back after ${((performance.now() - rebootStarted) / 1000).toFixed(1)} s`);
          },
          apply: async (resources) => {
            if (options.verifyOnly) throw new Error(`step ${step.id}: verify must not change anything`);
            const results = await applyResources(pool.get(host.name), resources, { dryRun, signal });
            for (const result of results) {
              if (result.status === 'changed') changed++;
              sink({ type: 'action', step: step.id, host: host.name, result });
            }
            return results;
          },
        };
        let status: HostStatus = 'ok';
        let error: ErrorInfo | undefined;
        try {
          if (!options.verifyOnly) await step.run(ctx);
          if (!dryRun && step.verify) await step.verify(ctx);
          status = changed > 0 ? 'changed' : 'ok';
        } catch (failure) {
          status = 'failed';
          error = failure instanceof InterruptedError ? { message: 'interrupted' } : errorInfo(failure);
          Object.assign(summary, { status, failedStep: step.id, error });
        }
        summary.changed += changed;
        if (status === 'changed' && summary.status === 'ok') summary.status = 'changed';
        const durationMs = Math.round(performance.now() - hostStarted);
        sink({
          type: 'host-end',
          step: step.id,
          host: host.name,
          status,
          changed,
          durationMs,
          ...(error ? { error } : {}),
        });
      },
    );
    sink({ type: 'step-end', step: step.id, durationMs: Math.round(performance.now() - stepStarted) });
  }
  return finish();
}
