/** The timed scenarios: cold 01–03 on fresh machines, a no-op re-run, a restore, and many machines. */
import { labAccess } from './lab-hosts.js';
import { kubesmith, labUp, setup } from './run.js';
import { commandsPerHostPerStep } from './setup-all.js';
import { median, repeat, round } from './stats.js';
import { type Wire, wireBytes } from './wire.js';

export interface Cold {
  /** Wall of the three invocations `setup 01`, `02`, `03`, summed. */
  wallS: number;
  /** The deploy process's CPU seconds over the three, per host. */
  cpuPerHostS: number;
  /** The most any host was sent over the three invocations. */
  bytesPerHost: number;
  /** Connect time per host, median over hosts and the three invocations. */
  connectS: number;
  connectMaxS: number;
  /** From spawning `setup 01` to its first connect beginning (module loading, inventory, plan). */
  startToConnectS: number;
  wire: Wire;
}

const COLD_STEPS = ['01', '02', '03'];

/** Fresh machines, then the three invocations one after the other. */
export async function coldRun(machines: number): Promise<Cold> {
  await labUp(machines);
  const runs = [];
  for (const step of COLD_STEPS) runs.push(await setup(step));
  const bytes = new Map<string, number>();
  const connects: number[] = [];
  for (const run of runs) {
    for (const h of run.events.hosts) bytes.set(h.host, (bytes.get(h.host) ?? 0) + h.bytesUploaded);
    connects.push(...run.events.connectMs.values());
  }
  const bytesPerHost = Math.max(...bytes.values());
  const first = runs[0]!.events.hosts[0]!.host;
  const access = labAccess();
  return {
    wallS: round(runs.reduce((s, r) => s + r.wallS, 0)),
    cpuPerHostS: round(runs.reduce((s, r) => s + r.cpuS, 0) / machines),
    bytesPerHost,
    connectS: round(median(connects) / 1000),
    connectMaxS: round(Math.max(...connects) / 1000),
    startToConnectS: round(
      median(runs.map((r) => ((r.events.firstConnectAt ?? Number.NaN) - r.spawnedAt) / 1000)),
    ),
    wire: await wireBytes(
      access,
      access.hosts.findIndex((h) => h.name === first),
      bytes.get(first) ?? 0,
    ),
  };
}

export interface NoOp {
  wallS: number;
  changed: number;
  bytesUploaded: number;
  commandsPerHostPerStep: number;
}

/** `setup <step>` again on a cluster that already has it: one invocation, nothing to change. */
export async function noOpRuns(step: string, runs: number): Promise<NoOp> {
  const results = await repeat(runs, () => setup(step));
  return {
    wallS: round(median(results.map((r) => r.wallS))),
    changed: Math.max(...results.map((r) => r.events.changed)),
    bytesUploaded: Math.max(...results.map((r) => r.events.hosts.reduce((s, h) => s + h.bytesUploaded, 0))),
    commandsPerHostPerStep: Math.max(...results.map((r) => commandsPerHostPerStep(r.events))),
  };
}

/** A backup, then `restore latest --yes` timed (stop, restore, start, verify) on the running cluster. */
export async function restoreRuns(runs: number): Promise<{ wallS: number; allS: number[] }> {
  await kubesmith('backup', 'bench', '--note', 'bench');
  const walls = await repeat(
    runs,
    async () => (await kubesmith('restore', 'bench', 'latest', '--yes')).wallS,
  );
  return { wallS: round(median(walls)), allS: walls.map((w) => round(w)) };
}
