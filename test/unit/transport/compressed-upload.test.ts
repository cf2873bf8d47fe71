import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InterruptedError, SshError } from '../../../src/errors.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';
import { SshConnection, type SshTarget } from '../../../src/transport/ssh.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { sshdUnavailable, TestSshd } from '../../helpers/sshd.js';

const unavailable = skipWithout('compressed uploads against a real sshd', sshdUnavailable());
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Waits (without a time budget of its own beyond a generous cap) until check() holds. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await sleep(25);
  }
  throw new Error(`never happened: ${what}`);
}

describe.skipIf(unavailable)(
  'gzip uploads: decompressed on the host, checked, then moved (real sshd)',
  () => {
    let sshd: TestSshd;
    let conn: SshConnection;
    let dir: string;
    let round = 0;

    const target = (): SshTarget => ({
      name: 'gzip-host',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      identityFile: sshd.clientKey,
      hostKeyPolicy: 'accept-new',
      knownHosts: new KnownHosts(join(sshd.dir, 'known_hosts')),
      connectTimeoutMs: 5000,
    });

    beforeAll(async () => {
      sshd = await TestSshd.start();
      conn = await SshConnection.open(target());
    });
    afterAll(async () => {
      conn?.close();
      await sshd?.destroy();
    });
    beforeEach(async () => {
      dir = join(sshd.dir, `dest-${++round}`);
      await conn.run(['mkdir', '-p', dir]);
    });

    const gzipFile = (content: Buffer, name = 'payload.gz') => {
      const path = join(sshd.dir, `${round}-${name}`);
      writeFileSync(path, gzipSync(content, { level: 1 }));
      return path;
    };

    it('installs the decompressed bytes with mode, counting only the compressed bytes as sent', async () => {
      const content = Buffer.from('a compressible binary\n'.repeat(200_000));
      const gzipPath = gzipFile(content);
      const before = conn.stats.bytesUploaded;
      const dest = join(dir, 'tool');
      await conn.upload({ gzipPath, contentSha256: sha256(content) }, dest, { mode: 0o755 });
      expect(readFileSync(dest).equals(content)).toBe(true);
      expect(statSync(dest).mode & 0o777).toBe(0o755);
      expect(conn.stats.bytesUploaded - before).toBe(statSync(gzipPath).size);
      expect(readdirSync(dir)).toEqual(['tool']);
    });

    it('refuses a stream whose decompressed content is not the sha256 it claims: nothing installed or left', async () => {
      const gzipPath = gzipFile(Buffer.from('what arrived'));
      const dest = join(dir, 'tool');
      await expect(
        conn.upload({ gzipPath, contentSha256: sha256(Buffer.from('what was wanted')) }, dest),
      ).rejects.toThrow(/sha256 differs from what was sent; not installed/);
      expect(readdirSync(dir)).toEqual([]);
    });

    it('a stream cut short fails in gzip on the host, and the partial file is removed', async () => {
      const content = randomBytes(1 << 20);
      const whole = gzipSync(content);
      const gzipPath = join(sshd.dir, `${round}-cut.gz`);
      writeFileSync(gzipPath, whole.subarray(0, whole.length / 2));
      const error = await conn
        .stage({ gzipPath, contentSha256: sha256(content) }, join(dir, 'tool'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SshError);
      expect((error as SshError).message).toMatch(/upload of .*tool failed: .*(unexpected end of file|gzip)/);
      expect(readdirSync(dir)).toEqual([]);
    });

    for (const how of ['Ctrl-C (abort)', 'a lost connection'] as const) {
      it(`an upload interrupted by ${how} leaves nothing half-installed`, async () => {
        const content = randomBytes(64 << 20);
        const gzipPath = gzipFile(content, 'big.gz');
        const uploader = how === 'Ctrl-C (abort)' ? conn : await SshConnection.open(target());
        const abort = new AbortController();
        const dest = join(dir, 'tool');
        const staging = uploader
          .stage({ gzipPath, contentSha256: sha256(content) }, dest, abort.signal)
          .catch((e: unknown) => e);
        // Interrupted while bytes are arriving: a staged file exists and is growing.
        await eventually(
          () =>
            readdirSync(dir).some((f) => f.startsWith('.tool.kubesmith-') && statSync(join(dir, f)).size > 0),
          'the staged file started',
        );
        if (how === 'Ctrl-C (abort)') abort.abort();
        else uploader.close();
        const error = await staging;
        expect(error).toBeInstanceOf(how === 'Ctrl-C (abort)' ? InterruptedError : SshError);
        await eventually(() => readdirSync(dir).length === 0, 'the host removed the partial file');
        expect(existsSync(dest)).toBe(false);
        // The connection that was interrupted (not lost) still works.
        if (how === 'Ctrl-C (abort)')
          await expect(conn.run(['true'])).resolves.toMatchObject({ exitCode: 0 });
      });
    }
  },
);
