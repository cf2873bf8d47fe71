import { existsSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servesCertificate } from '../../../../src/components/kubernetes/served-certificate.js';
import { InterruptedError } from '../../../../src/errors.js';
import { issue, type KeyPair } from '../../../../src/pki/x509.js';
import type { SshConnection } from '../../../../src/transport/ssh.js';
import { skipWithout } from '../../../helpers/prerequisite.js';
import { freePort, sshdUnavailable, TestSshd } from '../../../helpers/sshd.js';

const unavailable = skipWithout(
  'reading a served certificate through a real sshd',
  sshdUnavailable() ?? (existsSync('/usr/bin/socat') ? undefined : 'no socat (apt-get install socat)'),
);

const serving = (name: string) =>
  issue({ commonName: name, ipAddresses: ['127.0.0.1'], usages: ['server'], validityDays: 1 });

describe.skipIf(unavailable)(
  'servesCertificate: the certificate a TLS server presents, read on the host',
  () => {
    let sshd: TestSshd;
    let conn: SshConnection;
    let server: Server;
    let port = 0;
    let first: KeyPair;
    let second: KeyPair;

    beforeAll(async () => {
      [first, second] = await Promise.all([serving('first'), serving('second')]);
      sshd = await TestSshd.start();
      conn = await sshd.connectAsRoot('served-cert-host');
      server = createServer({ cert: first.certPem, key: first.keyPem }, (socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      conn?.close();
      server?.close();
      await sshd?.destroy();
    });

    it('says yes for the certificate served, no for another once the time is up', async () => {
      const address = { host: '127.0.0.1', port };
      expect(await servesCertificate(conn, address, first.certPem, { timeoutMs: 0 })).toEqual({
        status: 'presents',
      });
      expect(await servesCertificate(conn, address, second.certPem, { timeoutMs: 600 })).toEqual({
        status: 'another',
      });
    });

    it('notices a server that takes up a new certificate while it waits', async () => {
      const address = { host: '127.0.0.1', port };
      setTimeout(() => server.setSecureContext({ cert: second.certPem, key: second.keyPem }), 700);
      const started = Date.now();
      expect(await servesCertificate(conn, address, second.certPem, { timeoutMs: 10_000 })).toEqual({
        status: 'presents',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    });

    it('a port nothing listens on is unreadable, with socat saying why', async () => {
      const address = { host: '127.0.0.1', port: await freePort() };
      const seen = await servesCertificate(conn, address, first.certPem, { timeoutMs: 0 });
      expect(seen).toMatchObject({ status: 'unreadable', why: expect.stringMatching(/refused/i) });
    });

    it('a server that accepts and never answers ends in about 5 s, and Ctrl-C stops the wait at once', async () => {
      const silent = createTcpServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = { host: '127.0.0.1', port: (silent.address() as { port: number }).port };
      try {
        const started = Date.now();
        const seen = await servesCertificate(conn, address, first.certPem, { timeoutMs: 0 });
        expect(seen.status).toBe('unreadable');
        expect(Date.now() - started).toBeLessThan(9000);
        const aborted = Date.now();
        await expect(
          servesCertificate(conn, address, first.certPem, {
            timeoutMs: 60_000,
            signal: AbortSignal.timeout(700),
          }),
        ).rejects.toBeInstanceOf(InterruptedError);
        expect(Date.now() - aborted).toBeLessThan(3000);
      } finally {
        silent.close();
      }
    });
  },
);
