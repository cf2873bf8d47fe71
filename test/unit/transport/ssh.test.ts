import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshError } from '../../../src/errors.js';
import { type HostKeyPolicy, KnownHosts } from '../../../src/transport/known-hosts.js';
import { SshConnection, type SshTarget } from '../../../src/transport/ssh.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import {
  ensureTestUsers,
  PASSWORD_USER,
  SUDO_USER,
  sshdUnavailable,
  sudoUnavailable,
  TEST_PASSWORD,
  TestSshd,
} from '../../helpers/sshd.js';

const unavailable = skipWithout(
  'transport tests against a real sshd',
  sshdUnavailable() ?? sudoUnavailable(),
);

describe.skipIf(unavailable)('SSH transport against a real OpenSSH server', () => {
  let sshd: TestSshd;
  let root: SshConnection;
  let fresh = 0;

  const target = (overrides: Partial<SshTarget> = {}): SshTarget => ({
    name: 'test-host',
    address: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    identityFile: sshd.clientKey,
    hostKeyPolicy: 'accept-new',
    knownHosts: new KnownHosts(join(sshd.dir, `known_hosts_${++fresh}`)),
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

  it('returns stdout, stderr and exit code in the same shape on success and failure', async () => {
    const ok = await root.exec(['sh', '-c', 'echo out; echo err >&2']);
    expect(ok).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 0 });
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);
    const bad = await root.exec(['sh', '-c', 'echo nope >&2; exit 7']);
    expect(bad).toMatchObject({ stdout: '', stderr: 'nope\n', exitCode: 7 });
    await expect(root.run(['sh', '-c', 'echo broken >&2; exit 3'])).rejects.toThrow(/exited 3: broken/);
  });

  it('passes argv through the remote shell verbatim', async () => {
    const nasty = ["it's", 'a b', '$(reboot)', '`id`', ';', '&&', '"q"', '*', '', 'é€'];
    const result = await root.run(['printf', '%s|', ...nasty]);
    expect(result.stdout).toBe(`${nasty.join('|')}|`);
  });

  it('carries 10 MB of output', async () => {
    const result = await root.run(['sh', '-c', 'head -c 10485760 /dev/zero | tr "\\0" a']);
    expect(result.stdout.length).toBe(10 * 1024 * 1024);
  });

  it('reuses one connection for many commands', async () => {
    const before = root.stats.commands;
    await Promise.all(Array.from({ length: 20 }, (_, i) => root.run(['echo', String(i)])));
    expect(root.stats.commands - before).toBe(20);
  });

  it('uploads a 50 MB file atomically with mode and owner, checksum intact', async () => {
    const local = join(sshd.dir, 'big.bin');
    const data = randomBytes(50 * 1024 * 1024);
    writeFileSync(local, data);
    const dest = join(sshd.dir, 'uploaded', 'big.bin');
    await root.run(['mkdir', '-p', join(sshd.dir, 'uploaded')]);
    await root.upload({ localPath: local }, dest, { mode: 0o640, owner: 'root', group: 'root' });
    const remote = await root.run(['sha256sum', dest]);
    expect(remote.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    expect(statSync(dest).mode & 0o777).toBe(0o640);
    const leftovers = await root.run(['sh', '-c', `ls -A ${join(sshd.dir, 'uploaded')}`]);
    expect(leftovers.stdout.trim()).toBe('big.bin');
  });

  it('runs as root through sudo -n for a non-root user', async () => {
    const conn = await SshConnection.open(target({ user: SUDO_USER }));
    try {
      expect((await conn.run(['whoami'])).stdout.trim()).toBe('root');
      expect((await conn.run(['whoami'], { sudo: false })).stdout.trim()).toBe(SUDO_USER);
      const dest = `/tmp/kubesmith-sudo-upload-${process.pid}`;
      await conn.upload(Buffer.from('hello\n'), dest, { mode: 0o600 });
      expect(readFileSync(dest, 'utf8')).toBe('hello\n');
      expect(statSync(dest).uid).toBe(0);
    } finally {
      conn.close();
    }
  });

  it('says clearly when sudo needs a password, and uses one when given, never showing it', async () => {
    const conn = await SshConnection.open(target({ user: PASSWORD_USER }));
    const error = await conn.run(['whoami']).catch((e: unknown) => e);
    conn.close();
    expect(error).toBeInstanceOf(SshError);
    expect((error as SshError).kind).toBe('sudo');
    expect((error as SshError).hint).toMatch(/--ask-become-pass/);
    const withPassword = await SshConnection.open(
      target({ user: PASSWORD_USER, becomePassword: TEST_PASSWORD }),
    );
    try {
      const result = await withPassword.run(['whoami']);
      expect(result.stdout.trim()).toBe('root');
      expect(JSON.stringify(result)).not.toContain(TEST_PASSWORD);
      const failed = await withPassword.run(['false']).catch((e: Error) => e);
      expect(`${(failed as Error).message}`).not.toContain(TEST_PASSWORD);
    } finally {
      withPassword.close();
    }
  });

  it('streams uploads and stdin scripts through a sudo that reads the password first', async () => {
    const conn = await SshConnection.open(target({ user: PASSWORD_USER, becomePassword: TEST_PASSWORD }));
    try {
      const local = join(sshd.dir, 'streamed.bin');
      const data = randomBytes(3 * 1024 * 1024);
      writeFileSync(local, data);
      const dest = `/tmp/kubesmith-password-upload-${process.pid}`;
      await conn.upload({ localPath: local }, dest, { mode: 0o600 });
      expect(createHash('sha256').update(readFileSync(dest)).digest('hex')).toBe(
        createHash('sha256').update(data).digest('hex'),
      );
      expect(statSync(dest).uid).toBe(0);
      const script = await conn.run(['sh', '-s'], { stdin: 'whoami\necho second line\n' });
      expect(script.stdout).toBe('root\nsecond line\n');
    } finally {
      conn.close();
    }
  });

  it('sends no password to a sudo that does not ask for one (it would reach the command)', async () => {
    const conn = await SshConnection.open(target({ user: SUDO_USER, becomePassword: TEST_PASSWORD }));
    try {
      const result = await conn.run(['cat'], { stdin: 'only this\n' });
      expect(result.stdout).toBe('only this\n');
    } finally {
      conn.close();
    }
  });

  it('records a new host key, then refuses a changed one naming the file to fix', async () => {
    const file = join(sshd.dir, 'known_hosts_policy');
    const t = (policy: HostKeyPolicy) => target({ knownHosts: new KnownHosts(file), hostKeyPolicy: policy });
    (await SshConnection.open(t('accept-new'))).close();
    expect(readFileSync(file, 'utf8')).toMatch(
      new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    (await SshConnection.open(t('strict'))).close();

    await sshd.stop();
    await sshd.newHostKey();
    await sshd.launch();
    const started = Date.now();
    const error = await SshConnection.open(t('accept-new')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect((error as SshError).kind).toBe('hostkey');
    expect((error as SshError).message).toContain(file);
    expect(Date.now() - started).toBeLessThan(3000);
    const unknown = await SshConnection.open(
      target({ knownHosts: new KnownHosts(join(sshd.dir, 'empty_known_hosts')), hostKeyPolicy: 'strict' }),
    ).catch((e: unknown) => e);
    expect((unknown as SshError).kind).toBe('hostkey');
    (await SshConnection.open(target({ knownHosts: new KnownHosts(file), hostKeyPolicy: 'off' }))).close();
    root.close();
    root = await SshConnection.open(target());
  });

  it('reaches a host through a bastion (forwardOut over a first connection)', async () => {
    const conn = await SshConnection.open(
      target({
        address: '127.0.0.1',
        bastion: { address: '127.0.0.1', port: sshd.port, user: 'root', identityFile: sshd.clientKey },
      }),
    );
    try {
      const result = await conn.run(['sh', '-c', 'echo $SSH_CONNECTION']);
      // The target session comes from the bastion's sshd process, so both ends are loopback.
      expect(result.stdout).toMatch(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+/);
    } finally {
      conn.close();
    }
  });

  it('reports a connection lost mid-command as such', async () => {
    const conn = await SshConnection.open(target());
    // Kills the sshd process serving this session.
    const error = await conn
      .exec(['sh', '-c', 'sleep 0.2; kill -9 $PPID; sleep 10'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect((error as SshError).kind).toBe('closed');
    expect((error as SshError).message).toMatch(/connection lost while running/);
    await expect(conn.exec(['true'])).rejects.toThrow(/connection lost/);
  });

  it('fails auth without retrying and names the user and key', async () => {
    const wrongKey = join(sshd.dir, 'host_key');
    const started = Date.now();
    const error = await SshConnection.open(target({ identityFile: wrongKey }), {
      attempts: 3,
      backoffMs: 2000,
    }).catch((e: unknown) => e);
    expect((error as SshError).kind).toBe('auth');
    expect((error as SshError).message).toContain("user 'root'");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('retries a refused connection with backoff, then says so', async () => {
    const closedPort = await import('../../helpers/sshd.js').then((m) => m.freePort());
    const started = Date.now();
    const error = await SshConnection.open(target({ port: closedPort }), {
      attempts: 3,
      backoffMs: 100,
    }).catch((e: unknown) => e);
    expect((error as SshError).kind).toBe('refused');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
