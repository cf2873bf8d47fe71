/**
 * npm run bench: times `setup all` cold and warm on 3 and 10 lab machines and counts remote
 * commands per host per step. Needs root (the lab). Prints one JSON summary.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
const LAB = 'bench';
const env = { KUBESMITH_HOME: process.env.KUBESMITH_HOME ?? '/var/tmp/kubesmith-bench', CI: 'true' };

async function kubesmith(...args: string[]) {
  const started = performance.now();
  const result = await execa('node', [CLI, ...args], { env, reject: false });
  if (result.exitCode !== 0)
    throw new Error(`kubesmith ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, ms: Math.round(performance.now() - started) };
}

interface RunEnd {
  type: 'run-end';
  durationMs: number;
  summary: { changed: number; hosts: { commands: number; bytesUploaded: number }[] };
}

/** Busy and total CPU seconds of the whole machine so far (lab machines share its cores). */
function cpuSeconds(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

async function setup() {
  const before = cpuSeconds();
  const { stdout, ms } = await kubesmith('setup', LAB, 'all', '--output', 'json');
  const after = cpuSeconds();
  const busy = after.busy - before.busy;
  const events = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string });
  const steps = events.filter((e) => e.type === 'step-start').length;
  const end = events.find((e): e is RunEnd => e.type === 'run-end')!;
  const perHostPerStep = end.summary.hosts.map((h) => (h.commands - 1) / steps);
  return {
    wallMs: ms,
    engineMs: end.durationMs,
    machineCpuBusySeconds: Number(busy.toFixed(1)),
    machineCpuUtilization: Number((busy / (after.total - before.total)).toFixed(2)),
    changed: end.summary.changed,
    bytesUploaded: end.summary.hosts.reduce((n, h) => n + h.bytesUploaded, 0),
    maxCommandsPerHostPerStep: Math.max(...perHostPerStep),
  };
}

async function main() {
  const results: Record<string, unknown> = {};
  for (const count of [3, 10]) {
    await kubesmith('lab', 'down', '--name', LAB);
    const up = await kubesmith('lab', 'up', String(count), '--name', LAB);
    const cold = await setup();
    const warm = await setup();
    results[`machines_${count}`] = { labUpMs: up.ms, cold, warm };
  }
  await kubesmith('lab', 'down', '--name', LAB);
  type Cold = { cold: { wallMs: number; machineCpuBusySeconds: number } };
  const three = results.machines_3 as Cold;
  const ten = results.machines_10 as Cold;
  results.cores = availableParallelism();
  results.coldRatio10to3 = Number((ten.cold.wallMs / three.cold.wallMs).toFixed(2));
  // The lab's machines run on the deploy machine's own cores: the work grows with the machine count.
  results.coldCpuRatio10to3 = Number(
    (ten.cold.machineCpuBusySeconds / three.cold.machineCpuBusySeconds).toFixed(2),
  );
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
