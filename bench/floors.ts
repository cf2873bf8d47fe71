/**
 * The floors every figure is judged against, measured in the same run on the same machine:
 * process start, an OpenSSH connect plus a command, OpenSSH bulk throughput, and one round trip
 * on an open (multiplexed) OpenSSH connection (which includes the ssh client's own start).
 */
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LabAccess } from './lab-hosts.js';
import { CLI } from './run.js';
import { median, repeat, round, timed } from './stats.js';

export interface Floors {
  nodeStartS: number;
  kubesmithVersionS: number;
  sshConnectCommandS: number;
  sshThroughputBytesPerS: number;
  sshRoundTripS: number;
}

const wall = async (file: string, args: string[], options = {}) =>
  (await timed(() => execa(file, args, options))).seconds;

/** The largest file of the artifact bundle: what a bulk upload really carries. */
function bulkFile(bundleDir: string): string {
  const bin = join(bundleDir, 'bin');
  const files = readdirSync(bin).map((f) => join(bin, f));
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

export async function measureFloors(access: LabAccess, bundleDir: string, runs: number): Promise<Floors> {
  const host = access.hosts[0]!.address;
  // Interleaved, so that both see the same load from whatever else the machine runs.
  const starts = await repeat(Math.max(runs, 9), async () => ({
    node: await wall('node', ['-e', '0']),
    version: await wall('node', [CLI, '--version']),
  }));
  const nodeStart = starts.map((s) => s.node);
  const version = starts.map((s) => s.version);
  const connect = await repeat(Math.max(runs, 5), () => wall('ssh', [...access.sshOptions, host, 'true']));

  const file = bulkFile(bundleDir);
  const size = statSync(file).size;
  const throughput = await repeat(runs, async () => {
    const seconds = await wall('ssh', [...access.sshOptions, host, 'cat > /dev/null'], { inputFile: file });
    return size / seconds;
  });

  const control = join(tmpdir(), `ks-bench-ctl-${process.pid}`);
  const mux = ['-o', `ControlPath=${control}`];
  await execa('ssh', [
    ...access.sshOptions,
    ...mux,
    '-o',
    'ControlMaster=yes',
    '-o',
    'ControlPersist=60',
    '-fN',
    host,
  ]);
  try {
    const roundTrip = await repeat(Math.max(runs, 5), () =>
      wall('ssh', [...access.sshOptions, ...mux, host, 'true']),
    );
    return {
      nodeStartS: round(median(nodeStart)),
      kubesmithVersionS: round(median(version)),
      sshConnectCommandS: round(median(connect)),
      sshThroughputBytesPerS: Math.round(median(throughput)),
      sshRoundTripS: round(median(roundTrip)),
    };
  } finally {
    await execa('ssh', [...access.sshOptions, ...mux, '-O', 'exit', host], { reject: false });
  }
}
