/**
 * One kubesmith invocation as the bench sees it: wall clock, the deploy process's CPU seconds
 * (from /usr/bin/time), and the JSON events of --output json.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
/** The e2e suite's home by default: its lab cache (base image, Kubernetes bundles) is built once. */
export const HOME = process.env.KUBESMITH_HOME ?? '/var/tmp/kubesmith-e2e';
export const LAB = 'bench';
const env = { KUBESMITH_HOME: HOME, CI: 'true' };

export interface Invocation {
  wallS: number;
  /** User + system CPU seconds of the kubesmith process. */
  cpuS: number;
  stdout: string;
  /** When the process was spawned (epoch ms). */
  spawnedAt: number;
}

export interface HostEnd {
  host: string;
  commands: number;
  bytesUploaded: number;
}

export interface Events {
  steps: number;
  /** Each step's duration in ms, by step id, in the order they ended. */
  stepMs: Record<string, number>;
  durationMs: number;
  changed: number;
  hosts: HostEnd[];
  /** Connect (handshake, sudo check, facts) per host, in ms. */
  connectMs: Map<string, number>;
  /** When the first connect began (epoch ms): its event's time less its duration. */
  firstConnectAt?: number;
}

/** Runs `node dist/cli.js args` under /usr/bin/time; throws with its output unless it exits 0. */
export async function kubesmith(...args: string[]): Promise<Invocation> {
  const dir = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  const timing = join(dir, 'time');
  try {
    const started = performance.now();
    const spawnedAt = Date.now();
    const result = await execa('/usr/bin/time', ['-o', timing, '-f', '%U %S', 'node', CLI, ...args], {
      env,
      reject: false,
    });
    const wallS = (performance.now() - started) / 1000;
    if (result.exitCode !== 0)
      throw new Error(
        `kubesmith ${args.join(' ')} exited ${result.exitCode}:\n${result.stdout}\n${result.stderr}`,
      );
    const [user = 0, system = 0] = readFileSync(timing, 'utf8')
      .trim()
      .split('\n')
      .pop()!
      .split(' ')
      .map(Number);
    return { wallS, cpuS: user + system, stdout: result.stdout, spawnedAt };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `setup <lab> <step> --output json`, with its events read. */
export async function setup(step: string): Promise<Invocation & { events: Events }> {
  const run = await kubesmith('setup', LAB, step, '--output', 'json');
  return { ...run, events: parseEvents(run.stdout) };
}

export function parseEvents(stdout: string): Events {
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
  const end = events.find((e) => e.type === 'run-end') as
    | { durationMs: number; summary: { changed: number; hosts: HostEnd[] } }
    | undefined;
  if (!end) throw new Error('no run-end event in the JSON output');
  const connectMs = new Map<string, number>();
  const connectStarts: number[] = [];
  for (const e of events) {
    if (e.type !== 'connect') continue;
    connectMs.set(String(e.host), Number(e.durationMs));
    connectStarts.push(Date.parse(String(e.time)) - Number(e.durationMs));
  }
  return {
    steps: events.filter((e) => e.type === 'step-start').length,
    stepMs: Object.fromEntries(
      events.filter((e) => e.type === 'step-end').map((e) => [String(e.step), Number(e.durationMs)]),
    ),
    durationMs: end.durationMs,
    changed: end.summary.changed,
    hosts: end.summary.hosts,
    connectMs,
    ...(connectStarts.length ? { firstConnectAt: Math.min(...connectStarts) } : {}),
  };
}

export async function labUp(count: number): Promise<Invocation> {
  await kubesmith('lab', 'down', '--name', LAB);
  return kubesmith('lab', 'up', String(count), '--name', LAB);
}

export async function labDown(): Promise<void> {
  await kubesmith('lab', 'down', '--name', LAB);
}
