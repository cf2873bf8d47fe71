/** `setup all` (01–07, the real Kubernetes binaries) on fresh lab machines, then again on the built cluster. */
import { labAccess } from './lab-hosts.js';
import { type Events, labUp, setup } from './run.js';
import { median, repeat, round } from './stats.js';
import { type Wire, wireBytes } from './wire.js';

export interface SetupAllCold {
  wallS: number;
  stepS: Record<string, number>;
  cpuPerHostS: number;
  /** The most any host was sent, and what the same files weigh as they are. */
  bytesPerHost: number;
  wire: Wire;
}

export interface SetupAllWarm {
  wallS: number;
  stepS: Record<string, number>;
  changed: number;
  bytesUploaded: number;
  commandsPerHostPerStep: number;
}

export interface SetupAll {
  machines: number;
  cold: SetupAllCold;
  warm: SetupAllWarm;
  allColdWallS: number[];
  allWarmWallS: number[];
}

const seconds = (stepMs: Record<string, number>) =>
  Object.fromEntries(Object.entries(stepMs).map(([step, ms]) => [step, round(ms / 1000)]));

/** The first command of every run is the connect's own (sudo check and facts). */
export const commandsPerHostPerStep = (e: Events) =>
  Math.max(...e.hosts.map((h) => (h.commands - 1) / Math.max(e.steps, 1)));

async function oneRun(machines: number): Promise<{ cold: SetupAllCold; warm: SetupAllWarm }> {
  await labUp(machines);
  const cold = await setup('all');
  const warm = await setup('all');
  const sent = new Map(cold.events.hosts.map((h) => [h.host, h.bytesUploaded]));
  const [busiest] = [...sent.entries()].sort((a, b) => b[1] - a[1]);
  const access = labAccess();
  return {
    cold: {
      wallS: round(cold.wallS),
      stepS: seconds(cold.events.stepMs),
      cpuPerHostS: round(cold.cpuS / machines),
      bytesPerHost: busiest?.[1] ?? 0,
      wire: await wireBytes(
        access,
        access.hosts.findIndex((h) => h.name === busiest?.[0]),
        busiest?.[1] ?? 0,
      ),
    },
    warm: {
      wallS: round(warm.wallS),
      stepS: seconds(warm.events.stepMs),
      changed: warm.events.changed,
      bytesUploaded: warm.events.hosts.reduce((s, h) => s + h.bytesUploaded, 0),
      commandsPerHostPerStep: round(commandsPerHostPerStep(warm.events)),
    },
  };
}

/** `runs` rounds on fresh machines; the cold figures of the median cold run, the warm ones' medians and worst. */
export async function setupAllRuns(machines: number, runs: number): Promise<SetupAll> {
  const results = await repeat(runs, () => oneRun(machines));
  const byCold = [...results].sort((a, b) => a.cold.wallS - b.cold.wallS);
  const warms = results.map((r) => r.warm);
  const medianWarm = [...warms].sort((a, b) => a.wallS - b.wallS)[Math.floor((warms.length - 1) / 2)]!;
  return {
    machines,
    cold: byCold[Math.floor((byCold.length - 1) / 2)]!.cold,
    warm: {
      ...medianWarm,
      wallS: round(median(warms.map((w) => w.wallS))),
      changed: Math.max(...warms.map((w) => w.changed)),
      bytesUploaded: Math.max(...warms.map((w) => w.bytesUploaded)),
      commandsPerHostPerStep: Math.max(...warms.map((w) => w.commandsPerHostPerStep)),
    },
    allColdWallS: results.map((r) => r.cold.wallS),
    allWarmWallS: warms.map((w) => w.wallS),
  };
}
