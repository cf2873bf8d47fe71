/**
 * npm run bench: times `setup all` cold and warm on 3 and 10 lab machines and counts remote
 * commands per host per step. Needs root (the lab). Prints one JSON summary.
 */
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

async function setup() {
  const { stdout, ms } = await kubesmith('setup', LAB, 'all', '--output', 'json');
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
  const three = results.machines_3 as { cold: { wallMs: number } };
  const ten = results.machines_10 as { cold: { wallMs: number } };
  results.coldRatio10to3 = Number((ten.cold.wallMs / three.cold.wallMs).toFixed(2));
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
