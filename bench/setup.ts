/**
 * npm run bench: every figure of issue 13 beside its floor measured in the same run, with its
 * target and pass/fail, as JSON (medians of BENCH_RUNS runs, default 3). Needs root and the lab;
 * holds the shared lab lock (/tmp/kubesmith-lab.lock) for the whole run and tears its lab down.
 */
import { execa } from 'execa';
import { connectPhases } from './connect.js';
import { environment } from './environment.js';
import { measureFloors } from './floors.js';
import { labAccess } from './lab-hosts.js';
import { closingNote, figures } from './report.js';
import { labDown, labUp } from './run.js';
import { type Cold, coldRun, noOpRuns, restoreRuns } from './scenarios.js';
import { setupAllRuns } from './setup-all.js';
import { median, repeat, round } from './stats.js';

const LOCK = '/tmp/kubesmith-lab.lock';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Runs of the 10-machine cold setup (slow on a small machine); 0 leaves that figure out. */
const MANY_RUNS = Number(process.env.BENCH_MANY_RUNS ?? RUNS);
/** Rounds of setup all (01–07) on 5 fresh machines and its re-run; 0 leaves them out. */
const ALL_RUNS = Number(process.env.BENCH_ALL_RUNS ?? RUNS);

/** The median run by wall clock (its other figures belong to that same run). */
function medianRun(runs: Cold[]): Cold & { allWallS: number[] } {
  const sorted = [...runs].sort((a, b) => a.wallS - b.wallS);
  return {
    ...sorted[Math.floor((sorted.length - 1) / 2)]!,
    wallS: round(median(runs.map((r) => r.wallS))),
    allWallS: runs.map((r) => r.wallS),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (the lab boots machines)');
  if (!process.env.BENCH_LOCKED) {
    // One lab user at a time on this machine: the whole bench runs under the shared lock.
    const self = await execa(
      'flock',
      [LOCK, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      {
        env: { BENCH_LOCKED: '1' },
        stdio: 'inherit',
        reject: false,
      },
    );
    process.exitCode = self.exitCode ?? 1;
    return;
  }
  const before = await environment();
  try {
    await labUp(3);
    const access = labAccess();
    const floors = await measureFloors(access, access.bundleDir, RUNS);
    const connect = await connectPhases(access, RUNS);
    const colds = await repeat(RUNS, () => coldRun(3));
    const cold3 = medianRun(colds);
    // The last cold run's cluster is still up: re-runs and restores use it.
    const noOp = await noOpRuns('03', RUNS);
    const restore = await restoreRuns(RUNS);
    const cold10 = MANY_RUNS > 0 ? medianRun(await repeat(MANY_RUNS, () => coldRun(10))) : undefined;
    const all = ALL_RUNS > 0 ? await setupAllRuns(5, ALL_RUNS) : undefined;
    const list = figures({ floors, cold3, noOp, restoreS: restore.wallS, cold10, all });
    const result = {
      runs: RUNS,
      manyRuns: MANY_RUNS,
      allRuns: ALL_RUNS,
      environment: { before, after: await environment() },
      floors,
      connectPhases: connect,
      cold3,
      noOp,
      restore,
      ...(cold10 ? { cold10 } : {}),
      ...(all ? { setupAll: all } : {}),
      figures: list,
      note: closingNote(list),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await labDown().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
