/**
 * Where a host's connect goes: kubesmith's own transport (ssh2) timed phase by phase against one
 * lab host: TCP + handshake + key auth, then the first command (`uname -m` as the runner sends it),
 * then the same command followed by the facts script (what setup's connect runs).
 */
import { join } from 'node:path';
import { FACTS_SCRIPT } from '../src/facts.js';
import { KnownHosts } from '../src/transport/known-hosts.js';
import { SshConnection } from '../src/transport/ssh.js';
import type { LabAccess } from './lab-hosts.js';
import { HOME, LAB } from './run.js';
import { median, repeat, round, timed } from './stats.js';

export interface ConnectPhases {
  handshakeS: number;
  firstCommandS: number;
  factsCommandS: number;
  /** handshake + the facts command: what one host's connect costs at least. */
  totalS: number;
}

export async function connectPhases(access: LabAccess, runs: number): Promise<ConnectPhases> {
  const host = access.hosts[0]!;
  const samples = await repeat(Math.max(runs, 5), async () => {
    const open = await timed(() =>
      SshConnection.open({
        name: host.name,
        address: host.address,
        port: 22,
        user: 'root',
        identityFile: access.identityFile,
        hostKeyPolicy: 'strict',
        knownHosts: new KnownHosts(join(HOME, 'clusters', LAB, 'known_hosts')),
        connectTimeoutMs: 10_000,
      }),
    );
    const conn = open.value;
    try {
      const first = await timed(() => conn.run(['uname', '-m']));
      const facts = await timed(() => conn.run(['sh', '-c', `uname -m\n${FACTS_SCRIPT}`]));
      return { handshake: open.seconds, first: first.seconds, facts: facts.seconds };
    } finally {
      conn.close();
    }
  });
  const handshakeS = median(samples.map((s) => s.handshake));
  const factsCommandS = median(samples.map((s) => s.facts));
  return {
    handshakeS: round(handshakeS),
    firstCommandS: round(median(samples.map((s) => s.first))),
    factsCommandS: round(factsCommandS),
    totalS: round(handshakeS + factsCommandS),
  };
}
