import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hostsFailed, type RunSummary } from '../engine/events.js';
import { acquireLock } from '../engine/lock.js';
import { loadPlaybook, selectSteps } from '../engine/playbook.js';
import { runPlaybook } from '../engine/runner.js';
import { InterruptedError } from '../errors.js';
import { FACTS_SCRIPT, factsByHost } from '../facts.js';
import { refusals } from '../preflight.js';
import { plainRenderer } from '../render/plain.js';
import { fanOut } from '../render/renderer.js';
import { health as healthStep, VERIFY_EVIDENCE_KEY, VERIFY_STEPS_KEY } from '../steps/health.js';
import { STEPS } from '../steps/index.js';
import { type Cluster, type GlobalOptions, pickRenderer } from './context.js';

export interface PlaybookCommandOptions extends GlobalOptions {
  dryRun?: boolean;
  verifyOnly?: boolean;
  /** Verify: where to save what the health checks read (API objects, host answers), as JSON. */
  evidenceFile?: string;
  hosts?: string[];
  /** Go on without unreachable workers (see RunOptions.skipUnreachable). */
  skipUnreachable?: boolean;
  becomePassword?: string;
  signal?: AbortSignal;
}

/** Runs a playbook under the cluster lock, with a run log, and throws StepFailedError when a host failed. */
export async function runPlaybookCommand(
  cluster: Cluster,
  playbookName: string,
  selector: string,
  options: PlaybookCommandOptions,
): Promise<RunSummary> {
  const playbook = await loadPlaybook(playbookName);
  const selected = selectSteps(playbook, selector);
  // Verify checks the selected steps, then the cluster's health as far as they built it.
  const health = playbook.steps.find((s) => s.step === healthStep.id);
  const entries =
    options.verifyOnly && health && !selected.includes(health) ? [...selected, health] : selected;
  const shared = new Map<string, unknown>();
  if (selected.some((s) => s !== health))
    shared.set(
      VERIFY_STEPS_KEY,
      selected.map((s) => s.step),
    );
  if (options.evidenceFile) shared.set(VERIFY_EVIDENCE_KEY, options.evidenceFile);
  const label = options.verifyOnly ? 'verify' : playbookName;
  const lock = await acquireLock(cluster.paths.lock, `${label} ${selector}`);
  if (lock.tookOver)
    process.stderr.write(
      `note: took over a stale lock of '${lock.tookOver.command}' (pid ${lock.tookOver.pid} is gone)\n`,
    );
  await mkdir(cluster.paths.runs, { recursive: true, mode: 0o700 });
  const logFile = join(cluster.paths.runs, `${new Date().toISOString().replace(/[:.]/g, '-')}-${label}.log`);
  const log = createWriteStream(logFile, { mode: 0o600 });
  const renderer = fanOut(
    pickRenderer(options.output, options.verbose),
    plainRenderer(log, { verbose: true }),
  );
  try {
    const summary = await runPlaybook({
      command: label,
      loaded: cluster.loaded,
      clusterDir: cluster.paths.dir,
      knownHostsFile: cluster.paths.knownHosts,
      entries,
      registry: STEPS,
      sink: renderer.sink,
      dryRun: options.dryRun,
      verifyOnly: options.verifyOnly,
      shared,
      signal: options.signal,
      only: options.hosts,
      skipUnreachable: options.skipUnreachable,
      becomePassword: options.becomePassword,
      logFile,
      // Verify reports on hosts as they are; every other run refuses unfit hosts before any step.
      hostPreflight: options.verifyOnly
        ? undefined
        : {
            script: FACTS_SCRIPT,
            judge: (outputs) => refusals(cluster.loaded.inventory, factsByHost(outputs)),
          },
    });
    await renderer.close();
    if (summary.interrupted) throw new InterruptedError();
    if (summary.failed > 0) throw hostsFailed(summary);
    return summary;
  } finally {
    await new Promise((r) => log.end(r));
    await lock.release();
  }
}
