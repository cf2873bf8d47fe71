import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, InterruptedError, OperationError, RemoteCommandError, SshError } from '../errors.js';
import type { ClusterPaths } from '../home.js';
import type { LoadedInventory } from '../inventory/load.js';
import { plainRenderer } from '../render/plain.js';
import { fanOut, type Renderer } from '../render/renderer.js';
import { hostsFailed, type RunSummary } from './events.js';
import { acquireLock } from './lock.js';
import { loadPlaybook } from './playbook.js';
import { type RunData, sharedWith } from './run-data.js';
import { type RunOptions, runPlaybook } from './runner.js';
import type { AnyStep } from './step.js';

export interface CommandRunOptions {
  /** What the lock and the run log say, e.g. `restore latest`. */
  label: string;
  /** playbooks/<name>.yaml: every step of it runs, in order. */
  playbook: string;
  paths: ClusterPaths;
  /** The inventory the run works with (del-etcd: the one after the removal). */
  loaded: LoadedInventory;
  registry: ReadonlyMap<string, AnyStep>;
  /** What the user sees; the run log gets every event as well. */
  display: Renderer;
  data: RunData;
  only?: readonly string[];
  /** The hosts the command names (RunOptions.targets). */
  targets?: readonly string[];
  /** Checks of the hosts before any step (RunOptions.hostPreflight): hosts a command brings in. */
  hostPreflight?: RunOptions['hostPreflight'];
  /** Hosts the run may go on without when they cannot be reached (RunOptions.mayBeUnreachable). */
  mayBeUnreachable?: readonly string[];
  becomePassword?: string;
  signal?: AbortSignal;
  /** Runs under the lock before any host is connected: checks that must not race another run, a confirmation. */
  beforeConnect?: () => Promise<void>;
}

/**
 * Runs a command's playbook as setup runs its: under the cluster lock, with a run log, every host
 * connected before any step (one connection per host for the whole command), and the run ended
 * at the first phase that fails. A refusal or failure of a deploy-machine phase is thrown as the
 * typed error it was (exit 2 for a refusal, 3 for an unreachable host); a host's failure as
 * StepFailedError.
 */
export async function runCommandPlaybook(options: CommandRunOptions): Promise<RunSummary> {
  const playbook = await loadPlaybook(options.playbook);
  const lock = await acquireLock(options.paths.lock, options.label);
  if (lock.tookOver)
    process.stderr.write(
      `note: took over a stale lock of '${lock.tookOver.command}' (pid ${lock.tookOver.pid} is gone)\n`,
    );
  let log: ReturnType<typeof createWriteStream> | undefined;
  try {
    await options.beforeConnect?.();
    await mkdir(options.paths.runs, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const logFile = join(options.paths.runs, `${stamp}-${options.label.split(' ')[0]}.log`);
    log = createWriteStream(logFile, { mode: 0o600 });
    const renderer = fanOut(options.display, plainRenderer(log, { verbose: true }));
    const summary = await runPlaybook({
      command: options.label,
      loaded: options.loaded,
      clusterDir: options.paths.dir,
      knownHostsFile: options.paths.knownHosts,
      entries: playbook.steps,
      registry: options.registry,
      sink: renderer.sink,
      signal: options.signal,
      only: options.only,
      targets: options.targets,
      hostPreflight: options.hostPreflight,
      mayBeUnreachable: options.mayBeUnreachable,
      becomePassword: options.becomePassword,
      logFile,
      shared: sharedWith(options.data),
      stopAtFailure: true,
    });
    await renderer.close();
    if (summary.interrupted) throw new InterruptedError();
    if (summary.failed > 0 || options.data.failures.length > 0) throw failureOf(summary, options.data);
    return summary;
  } finally {
    const closing = log;
    if (closing) await new Promise((r) => closing.end(r));
    await lock.release();
  }
}

const TYPED = [InputError, SshError, OperationError, RemoteCommandError, InterruptedError];

/** The first typed error a deploy-machine phase threw, else the hosts that failed. */
function failureOf(summary: RunSummary, data: RunData): Error {
  const typed = data.failures.find((e): e is Error => TYPED.some((type) => e instanceof type));
  if (typed) return typed;
  return hostsFailed(summary);
}
