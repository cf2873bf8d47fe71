import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHosts } from '../../../src/transport/known-hosts.js';
import { SshConnection, type SshTarget } from '../../../src/transport/ssh.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import {
  ensureTestUsers,
  forgetSudoTickets,
  GLOBAL_TICKET_USER,
  PASSWORD_USER,
  sshdUnavailable,
  sudoUnavailable,
  TEST_PASSWORD,
  TestSshd,
} from '../../helpers/sshd.js';

const unavailable = skipWithout(
  'sudo password tests against a real sshd',
  sshdUnavailable() ?? sudoUnavailable(),
);

describe.skipIf(unavailable)(
  '--ask-become-pass: the password reaches sudo only, never a command or a file',
  () => {
    let sshd: TestSshd;
    let root: SshConnection;

    const target = (overrides: Partial<SshTarget> = {}): SshTarget => ({
      name: 'sudo-host',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      identityFile: sshd.clientKey,
      hostKeyPolicy: 'accept-new',
      knownHosts: new KnownHosts(join(sshd.dir, 'known_hosts')),
      connectTimeoutMs: 5000,
      ...overrides,
    });

    beforeAll(async () => {
      sshd = await TestSshd.start();
      await ensureTestUsers();
      root = await SshConnection.open(target());
    });
    afterAll(async () => {
      root?.close();
      await sshd?.destroy();
    });

    /** Several commands of every kind; everything they return and write must be exactly what was sent. */
    async function everyKindOfCommand(conn: SshConnection, user: string): Promise<string[]> {
      const seen: string[] = [];
      for (let round = 0; round < 3; round++) {
        const cat = await conn.run(['cat'], { stdin: `payload ${round}\n` });
        expect(cat.stdout).toBe(`payload ${round}\n`);
        const script = await conn.run(['sh', '-s'], { stdin: 'whoami\necho second line\n' });
        expect(script.stdout).toBe('root\nsecond line\n');
        expect(script.stderr).not.toMatch(/not found/);
        const small = `/tmp/kubesmith-pw-small-${user}-${process.pid}-${round}`;
        const content = Buffer.from(`small ${round}\n`);
        await conn.upload(content, small, { mode: 0o600 });
        expect(readFileSync(small).equals(content)).toBe(true);
        const local = join(sshd.dir, `big-${user}-${round}.bin`);
        const data = randomBytes(1024 * 1024 + round);
        writeFileSync(local, data);
        const big = `/tmp/kubesmith-pw-big-${user}-${process.pid}-${round}`;
        await conn.upload({ localPath: local }, big, { mode: 0o600 });
        expect(readFileSync(big).equals(data)).toBe(true);
        // A staged file moved by a separate install script: exactly the bytes sent.
        const staged = await conn.stage(content, `/tmp/kubesmith-pw-staged-${user}-${process.pid}-${round}`);
        expect(readFileSync(staged).equals(content)).toBe(true);
        await conn.run(['rm', '-f', staged]);
        seen.push(
          cat.stdout,
          cat.stderr,
          script.stdout,
          script.stderr,
          readFileSync(small, 'utf8'),
          readFileSync(big, 'latin1'),
        );
      }
      return seen;
    }

    it('timestamp_type=global: asked once; later commands get no password on their stdin', async () => {
      forgetSudoTickets(GLOBAL_TICKET_USER);
      const conn = await SshConnection.open(
        target({ user: GLOBAL_TICKET_USER, becomePassword: TEST_PASSWORD }),
      );
      try {
        const seen = await everyKindOfCommand(conn, 'global');
        for (const text of seen) expect(text).not.toContain(TEST_PASSWORD);
        // sudo asked for the first command only: the ticket is shared by every later session.
        expect(conn.stats.passwordsSent).toBe(1);
        expect(existsSync(join('/run/sudo/ts', GLOBAL_TICKET_USER))).toBe(true);
      } finally {
        conn.close();
      }
    });

    it('timestamp_type=tty (Debian default): asked on each command, and answered each time', async () => {
      forgetSudoTickets(PASSWORD_USER);
      const conn = await SshConnection.open(target({ user: PASSWORD_USER, becomePassword: TEST_PASSWORD }));
      try {
        const seen = await everyKindOfCommand(conn, 'tty');
        for (const text of seen) expect(text).not.toContain(TEST_PASSWORD);
        expect(conn.stats.passwordsSent).toBeGreaterThan(1);
      } finally {
        conn.close();
      }
    });

    it('a wrong password fails as such, is not retried, and is never shown', async () => {
      forgetSudoTickets(PASSWORD_USER);
      const conn = await SshConnection.open(
        target({ user: PASSWORD_USER, becomePassword: 'wrong-Password-7' }),
      );
      try {
        const error = (await conn.run(['cat'], { stdin: 'payload\n' }).catch((e: unknown) => e)) as Error;
        expect(error.message).toMatch(/sudo refused the password/);
        expect(JSON.stringify(error)).not.toContain('wrong-Password-7');
        expect(conn.stats.passwordsSent).toBe(1);
      } finally {
        conn.close();
      }
    });

    it('a raw stream through sudo starts only after the password was taken', async () => {
      forgetSudoTickets(PASSWORD_USER);
      const conn = await SshConnection.open(target({ user: PASSWORD_USER, becomePassword: TEST_PASSWORD }));
      try {
        const { stream } = await conn.openStream(['cat']);
        const echoed = new Promise<string>((resolve) => {
          let text = '';
          stream.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          stream.on('close', () => resolve(text));
        });
        stream.end('bytes\n');
        expect(await echoed).toBe('bytes\n');
      } finally {
        conn.close();
      }
    });

    it('a staged file whose sha256 on the host differs from what was sent is not moved into place', async () => {
      const dest = `/tmp/kubesmith-tampered-${process.pid}`;
      const staged = await root.stage(Buffer.from('the real content\n'), dest);
      writeFileSync(staged, 'PASSWORD\nthe real content\n');
      const error = (await root
        .run(['sh', '-c', root.installCommand(staged, dest)])
        .catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/sha256 differs from what was sent; not installed/);
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(staged)).toBe(false);
      // Inside a longer install script, the failure stops it (set -e alone would not).
      const again = await root.stage(Buffer.from('x\n'), dest);
      writeFileSync(again, 'y\n');
      const script = ['set -e', root.installCommand(again, dest), `touch ${dest}.after`].join('\n');
      const result = await root.exec(['sh', '-s'], { stdin: script });
      expect(result.exitCode).not.toBe(0);
      expect(existsSync(`${dest}.after`)).toBe(false);
    });
  },
);
