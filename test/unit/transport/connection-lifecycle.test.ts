import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_KEY_POLICY_OFF_WARNING, HostPool } from '../../../src/engine/pool.js';
import { SshError } from '../../../src/errors.js';
import { parseInventory } from '../../../src/inventory/load.js';
import { BastionPool } from '../../../src/transport/bastion.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';
import {
  KEEPALIVE_COUNT_MAX,
  KEEPALIVE_INTERVAL_MS,
  SshConnection,
  type SshTarget,
} from '../../../src/transport/ssh.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { freePort, sshdUnavailable, TestSshd } from '../../helpers/sshd.js';

const unavailable = skipWithout('SSH connection lifecycle tests against a real sshd', sshdUnavailable());

/**
 * Established TCP connections to the test sshd, counted from the client side on this machine:
 * ours (direct and to the bastion) and those the bastion's sshd opens to the hosts behind it.
 * A leaked bastion connection shows here (and would keep the CLI from exiting).
 */
function connectionsTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2]?.endsWith(`:${hexPort}`) && f[3] === '01').length;
}

describe.skipIf(unavailable)('SSH connections: bastions, timeouts, dead hosts', () => {
  let sshd: TestSshd;
  let work: string;

  const target = (overrides: Partial<SshTarget> = {}): SshTarget => ({
    name: 'life-host',
    address: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    identityFile: sshd.clientKey,
    hostKeyPolicy: 'accept-new',
    knownHosts: new KnownHosts(join(work, 'known_hosts')),
    connectTimeoutMs: 5000,
    ...overrides,
  });
  const viaBastion = (overrides: Partial<SshTarget> = {}) =>
    target({
      bastion: { address: '127.0.0.1', port: sshd.port, user: 'root', identityFile: sshd.clientKey },
      ...overrides,
    });

  const settled = async (expected: number): Promise<number> => {
    for (let i = 0; i < 40 && connectionsTo(sshd.port) !== expected; i++) await sleep(50);
    return connectionsTo(sshd.port);
  };

  beforeAll(async () => {
    sshd = await TestSshd.start(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    work = mkdtempSync(join(tmpdir(), 'ks-life-'));
  });
  afterAll(async () => {
    await sshd?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('closes the bastion connection when the hop to the host fails (nothing left open)', async () => {
    const before = await settled(0);
    const closed = await freePort();
    const error = await SshConnection.open(viaBastion({ port: closed }), {
      attempts: 3,
      backoffMs: 50,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect(await settled(before)).toBe(before);
  });

  it('hosts behind one bastion share one connection to it, closed with the last host', async () => {
    const before = await settled(0);
    const bastions = new BastionPool();
    const conns = await Promise.all(
      ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((address) =>
        SshConnection.open(viaBastion({ address, name: address }), { bastions }),
      ),
    );
    expect(bastions.opened).toBe(1);
    // One to the bastion, and one from it to each host (three bastions would make six).
    expect(connectionsTo(sshd.port) - before).toBe(4);
    for (const conn of conns) expect((await conn.run(['true'])).exitCode).toBe(0);
    conns[0]!.close();
    expect((await conns[1]!.run(['echo', 'still'])).stdout).toBe('still\n');
    for (const conn of conns.slice(1)) conn.close();
    expect(await settled(before)).toBe(before);
  });

  it('a run connects every host through one bastion connection and warns when host keys are off', async () => {
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3']
      .map((a, i) => `  - { name: b${i + 1}, address: ${a}, roles: [${i === 0 ? 'etcd, master' : 'node'}] }`)
      .join('\n');
    const text = [
      'cluster: { name: bastioned }',
      `ssh: { port: ${sshd.port}, identityFile: ${sshd.clientKey}, hostKeyPolicy: off,`,
      `       bastion: { address: 127.0.0.1, port: ${sshd.port} } }`,
      `hosts:\n${hosts}`,
      '',
    ].join('\n');
    const loaded = await parseInventory(text, join(work, 'inventory.yaml'));
    const before = await settled(0);
    const warnings: string[] = [];
    const pool = await HostPool.connect(loaded, loaded.inventory.hosts, {
      knownHostsFile: join(work, 'pool_known_hosts'),
      concurrency: 3,
      onWarning: (message) => warnings.push(message),
    });
    try {
      expect(pool.failures.size).toBe(0);
      expect(connectionsTo(sshd.port) - before).toBe(4);
      expect(warnings).toEqual([HOST_KEY_POLICY_OFF_WARNING]);
      expect(pool.warnings).toEqual([HOST_KEY_POLICY_OFF_WARNING]);
    } finally {
      pool.close();
    }
    expect(await settled(before)).toBe(before);
  });

  it('stops a command that runs past its timeout, and the connection goes on', async () => {
    const conn = await SshConnection.open(target());
    try {
      const started = Date.now();
      const error = await conn.exec(['sleep', '30'], { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SshError);
      expect((error as SshError).kind).toBe('timeout');
      expect((error as SshError).message).toMatch(/'sleep 30' did not finish within 1 s/);
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await conn.run(['echo', 'next'])).stdout).toBe('next\n');
    } finally {
      conn.close();
    }
  });

  it('notices a host that stopped answering within about 20 s', async () => {
    expect(KEEPALIVE_INTERVAL_MS * (KEEPALIVE_COUNT_MAX + 1)).toBeLessThanOrEqual(20_000);
    const conn = await SshConnection.open(target());
    const root = await SshConnection.open(target());
    // The sshd process that carries this connection: the first sshd above the command.
    const findSshd =
      'p=$$; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d " " -f 4 /proc/$p/stat); done; echo $p';
    const pid = (await conn.run(['sh', '-c', findSshd])).stdout.trim();
    try {
      const running = conn.exec(['sleep', '120']).catch((e: unknown) => e);
      await sleep(200);
      await root.run(['kill', '-STOP', pid]);
      const started = Date.now();
      const error = await running;
      expect(error).toBeInstanceOf(SshError);
      expect((error as SshError).kind).toBe('closed');
      expect(Date.now() - started).toBeLessThan(25_000);
    } finally {
      await root.run(['kill', '-KILL', pid]).catch(() => undefined);
      root.close();
      conn.close();
    }
  }, 40_000);
});
