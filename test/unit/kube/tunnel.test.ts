import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTunnel } from '../../../src/kube/tunnel.js';
import type { SshConnection } from '../../../src/transport/ssh.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { freePort, sshdUnavailable, TestSshd } from '../../helpers/sshd.js';

const unavailable = skipWithout(
  'the Kubernetes API tunnel against a real sshd',
  sshdUnavailable() ?? (existsSync('/usr/bin/socat') ? undefined : 'no socat (apt-get install socat)'),
);

/** Sends payload on a new connection to port and returns all that came back, once as long as payload (or the connection ended). */
function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** The socat processes a tunnel to port started on this (test) host. */
async function socatsTo(port: number): Promise<number> {
  const found = await execa('pgrep', ['-f', `socat.* - TCP:127.0.0.1:${port}`], { reject: false });
  return found.stdout.split('\n').filter(Boolean).length;
}

const refused = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => resolve('connected'));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });

describe.skipIf(unavailable)('openTunnel: a local port carried over SSH by socat', () => {
  let sshd: TestSshd;
  let conn: SshConnection;
  let echo: Server;
  let echoPort = 0;
  const echoed = new Set<Socket>();

  beforeAll(async () => {
    sshd = await TestSshd.start();
    conn = await sshd.connectAsRoot('tunnel-host');
    echo = createServer({ allowHalfOpen: true }, (socket) => {
      echoed.add(socket);
      socket.on('close', () => echoed.delete(socket));
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
  });
  afterAll(async () => {
    conn?.close();
    echo?.close();
    await sshd?.destroy();
  });

  it('carries bytes both ways, several connections at once, each on its own channel', async () => {
    const tunnel = await openTunnel(conn, { host: '127.0.0.1', port: echoPort });
    const port = Number(new URL(tunnel.url).port);
    const payloads = [randomBytes(2 * 1024 * 1024), randomBytes(10), randomBytes(70_000)];
    const answers = await Promise.all(payloads.map((p) => roundTrip(port, p)));
    expect(answers.map((answer, i) => answer.equals(payloads[i]!))).toEqual([true, true, true]);
    expect(tunnel.lastFailure()).toBeUndefined();
    await tunnel.close();
  });

  it('a connection closed here leaves no socat behind on the host (each holds an SSH session)', async () => {
    const silent = createServer({ allowHalfOpen: true }, () => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as { port: number }).port;
    const tunnel = await openTunnel(conn, { host: '127.0.0.1', port: silentPort });
    try {
      const client = connect({ host: '127.0.0.1', port: Number(new URL(tunnel.url).port) });
      client.on('error', () => undefined);
      await expect.poll(() => socatsTo(silentPort), { timeout: 10_000 }).toBe(1);
      client.destroy();
      await expect.poll(() => socatsTo(silentPort), { timeout: 5_000 }).toBe(0);
    } finally {
      await tunnel.close();
      silent.close();
    }
  });

  it("keeps socat's complaint when the target refuses", async () => {
    const tunnel = await openTunnel(conn, { host: '127.0.0.1', port: await freePort() });
    expect((await roundTrip(Number(new URL(tunnel.url).port), Buffer.from('hello'))).length).toBe(0);
    await expect
      .poll(() => tunnel.lastFailure(), { timeout: 10_000 })
      .toMatch(/^socat: E connect\(.*Connection refused/);
    await tunnel.close();
  });

  it('close cuts live connections and leaves no listening socket', async () => {
    const tunnel = await openTunnel(conn, { host: '127.0.0.1', port: echoPort });
    const port = Number(new URL(tunnel.url).port);
    const client = connect({ host: '127.0.0.1', port });
    const closed = new Promise((resolve) => client.on('close', resolve));
    client.on('error', () => undefined);
    await expect.poll(() => echoed.size, { timeout: 10_000 }).toBe(1);
    await tunnel.close();
    await closed;
    expect(await refused(port)).toBe('ECONNREFUSED');
    await expect.poll(() => echoed.size, { timeout: 10_000 }).toBe(0);
  });
});
