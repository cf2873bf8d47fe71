import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_HOME, kubesmith, labUnavailable } from './harness.js';

const unavailable = labUnavailable();
if (unavailable) console.warn(`SKIP setup e2e: ${unavailable}`);

const LAB = 'e2e-setup';
const key = join(E2E_HOME, 'labs', LAB, 'id_ed25519');
const knownHosts = join(E2E_HOME, 'clusters', LAB, 'known_hosts');

/** Runs a command on a lab machine with the system ssh client, as an operator would. */
async function onHost(index: number, command: string): Promise<string> {
  const address = (await kubesmith('lab', 'status', '--name', LAB)).stdout
    .split('\n')
    [index + 1]?.split(/\s+/)[1];
  const result = await execa('ssh', [
    '-i',
    key,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    `root@${address}`,
    command,
  ]);
  return result.stdout;
}

describe.skipIf(unavailable)('setup 01 prepare on three lab machines', () => {
  beforeAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
    const up = await kubesmith('lab', 'up', '3', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
  });
  afterAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('prepares every host', async () => {
    const run = await kubesmith('setup', LAB, '01');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain('skipping read-only sysctls');
    for (const i of [0, 1, 2]) {
      expect(await onHost(i, 'hostname')).toBe(`${LAB}-${i + 1}`);
      const hosts = await onHost(i, 'cat /etc/hosts');
      for (const n of [1, 2, 3]) expect(hosts).toMatch(new RegExp(`^\\S+ ${LAB}-${n}$`, 'm'));
      expect(await onHost(i, 'sysctl -n net.ipv4.ip_forward')).toBe('1');
      expect(await onHost(i, 'cat /etc/kubesmith/cluster-name')).toBe(LAB);
      expect(await onHost(i, 'stat -c %a /etc/sysctl.d/95-kubesmith.conf')).toBe('644');
    }
  });

  it('a re-run changes nothing, uploads nothing, and needs at most 3 commands per host per step', async () => {
    const run = await kubesmith('setup', LAB, 'all', '--output', 'json');
    expect(run.exitCode, run.all).toBe(0);
    const end = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run-end');
    expect(end.summary.changed).toBe(0);
    for (const host of end.summary.hosts) {
      expect(host.bytesUploaded).toBe(0);
      expect(host.commands - 1).toBeLessThanOrEqual(3);
    }
  });

  it('dry-run after a completed run reports nothing to do', async () => {
    const run = await kubesmith('setup', LAB, 'all', '--dry-run');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain('0 change(s)');
  });

  it('repairs drift: only the edited file changes and only what depends on it runs', async () => {
    await onHost(
      1,
      "sed -i 's/somaxconn = 32768/somaxconn = 1024/' /etc/sysctl.d/95-kubesmith.conf && sysctl -q -w net.core.somaxconn=1024",
    );
    const dry = await kubesmith('setup', LAB, '01', '--dry-run');
    expect(dry.stdout).toMatch(/-net\.core\.somaxconn = 1024\n\+net\.core\.somaxconn = 32768/);
    const run = await kubesmith('setup', LAB, '01', '--output', 'json');
    const events = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const changed = events
      .filter((e) => e.type === 'action' && e.result.status === 'changed')
      .map((e) => `${e.host} ${e.result.target}`);
    expect(changed.sort()).toEqual([
      `${LAB}-2 /etc/sysctl.d/95-kubesmith.conf`,
      `${LAB}-2 sysctl -p /etc/sysctl.d/95-kubesmith.conf`,
    ]);
    expect(await onHost(1, 'sysctl -n net.core.somaxconn')).toBe('32768');
  });

  it('verify passes on the prepared hosts', async () => {
    const run = await kubesmith('verify', LAB);
    expect(run.exitCode, run.all).toBe(0);
  });
});
