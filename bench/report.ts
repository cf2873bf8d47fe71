/** Figures beside their floors and targets, with pass/fail, and the closing note that quotes them. */
import type { Floors } from './floors.js';
import type { Cold, NoOp } from './scenarios.js';
import type { SetupAll } from './setup-all.js';
import { round } from './stats.js';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The physical floor measured in this run, where the target is relative to one. */
  floor?: number;
  target: string;
  /** Absent for a figure reported without a target. */
  pass?: boolean;
}

export interface Measured {
  floors: Floors;
  cold3: Cold;
  noOp: NoOp;
  restoreS: number;
  cold10?: Cold;
  all?: SetupAll;
}

function figure(
  name: string,
  value: number,
  unit: string,
  target: string,
  pass: boolean | undefined,
  floor?: number,
): Figure {
  return {
    name,
    value: round(value),
    unit,
    ...(floor === undefined ? {} : { floor: round(floor) }),
    target,
    ...(pass === undefined ? {} : { pass }),
  };
}

export function figures({ floors, cold3, noOp, restoreS, cold10, all }: Measured): Figure[] {
  const coldFloor =
    3 * (floors.nodeStartS + floors.sshConnectCommandS) +
    cold3.bytesPerHost / floors.sshThroughputBytesPerS +
    1;
  const noOpFloor = floors.nodeStartS + floors.sshConnectCommandS + 2 * floors.sshRoundTripS;
  const startOverhead = floors.kubesmithVersionS - floors.nodeStartS;
  const wireRatio = cold3.wire.rawBytes / Math.max(cold3.wire.sentBytes, 1);
  const out: Figure[] = [
    figure(
      'process start: kubesmith --version beyond node -e 0',
      startOverhead,
      's',
      '≤ 0.15 s',
      startOverhead <= 0.15,
      floors.nodeStartS,
    ),
    figure(
      'process start to first connect (setup, median of the three invocations)',
      cold3.startToConnectS,
      's',
      '≤ 0.15 s',
      cold3.startToConnectS <= 0.15,
      floors.nodeStartS,
    ),
    figure(
      'cold 01–03, 3 fresh machines, three invocations (wall)',
      cold3.wallS,
      's',
      '≤ 1.5× floor',
      cold3.wallS <= 1.5 * coldFloor,
      coldFloor,
    ),
    figure(
      'no-op re-run of one step, 3 machines (wall incl. start)',
      noOp.wallS,
      's',
      '≤ 1.5× floor',
      noOp.wallS <= 1.5 * noOpFloor,
      noOpFloor,
    ),
    figure(
      'no-op: remote commands per host per step',
      noOp.commandsPerHostPerStep,
      'commands',
      '≤ 3',
      noOp.commandsPerHostPerStep <= 3,
    ),
    figure('no-op: bytes uploaded', noOp.bytesUploaded, 'bytes', '0', noOp.bytesUploaded === 0),
    figure('no-op: resources changed', noOp.changed, 'resources', '0', noOp.changed === 0),
    figure(
      'connect per host (handshake, sudo check, facts), median',
      cold3.connectS,
      's',
      '≤ 0.3 s',
      cold3.connectS <= 0.3,
      floors.sshConnectCommandS,
    ),
    figure('cold bytes on the wire per host: raw ÷ sent', wireRatio, '×', '≥ 3×', wireRatio >= 3),
    figure('restore of a 3-member cluster (wall)', restoreS, 's', '≤ 8 s', restoreS <= 8),
  ];
  if (cold10) {
    const ratio = cold10.wallS / cold3.wallS;
    out.push(figure('cold 01–03: 10 machines ÷ 3 machines (wall)', ratio, '×', '≤ 1.5×', ratio <= 1.5));
  }
  if (all) out.push(...setupAllFigures(floors, all));
  return out;
}

/** setup all (01–07): the cold run has no physical floor (it waits for the cluster to come up). */
function setupAllFigures(floors: Floors, { machines, cold, warm }: SetupAll): Figure[] {
  const steps = Object.keys(warm.stepS).length;
  const warmFloor = floors.nodeStartS + floors.sshConnectCommandS + 2 * steps * floors.sshRoundTripS;
  const wireRatio = cold.wire.rawBytes / Math.max(cold.wire.sentBytes, 1);
  const mb = (bytes: number) => bytes / 1e6;
  const name = (what: string) => `setup all, ${machines} machines: ${what}`;
  return [
    figure(name('cold, one invocation (wall)'), cold.wallS, 's', 'reported', undefined),
    figure(name('cold, sent to the busiest host'), mb(cold.bytesPerHost), 'MB', 'reported', undefined),
    figure(name('cold, raw ÷ sent'), wireRatio, '×', '≥ 3×', wireRatio >= 3),
    figure(
      name(`re-run of its ${steps} steps (wall incl. start)`),
      warm.wallS,
      's',
      '≤ 1.5× floor',
      warm.wallS <= 1.5 * warmFloor,
      warmFloor,
    ),
    figure(
      name('re-run: remote commands per host per step'),
      warm.commandsPerHostPerStep,
      'commands',
      '≤ 3',
      warm.commandsPerHostPerStep <= 3,
    ),
    figure(name('re-run: bytes uploaded'), warm.bytesUploaded, 'bytes', '0', warm.bytesUploaded === 0),
    figure(name('re-run: resources changed'), warm.changed, 'resources', '0', warm.changed === 0),
  ];
}

/** One line per figure: what the JSON says, for a human reading the end of the output. */
export function closingNote(list: readonly Figure[]): string {
  return list
    .map((f) => {
      const floor = f.floor === undefined ? '' : ` (floor ${f.floor})`;
      const verdict = f.pass === undefined ? 'INFO' : f.pass ? 'PASS' : 'FAIL';
      return `${verdict} ${f.name}: ${f.value} ${f.unit}${floor}, target ${f.target}`;
    })
    .join('\n');
}
