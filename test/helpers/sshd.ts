import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import { SshConnection } from '../../src/transport/ssh.js';

export const SSHD = '/usr/sbin/sshd';

/** Why real-sshd tests cannot run here, or undefined when they can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD)) return 'no /usr/sbin/sshd (apt-get install openssh-server)';
  if (process.getuid?.() !== 0) return 'not root: a test sshd must run as root to log in other users';
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function listening(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A real OpenSSH server on loopback with a throwaway host key, for transport and engine tests. */
export class TestSshd {
  private process: ChildProcess | undefined;
  readonly clientKey: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly addresses: string[],
    /** Directories put first on the PATH of every session (e.g. a fake systemctl). */
    readonly pathFirst: string[] = [],
  ) {
    this.clientKey = join(dir, 'client_key');
  }

  static async start(
    addresses: string[] = ['127.0.0.1'],
    options: { pathFirst?: string[] } = {},
  ): Promise<TestSshd> {
    const dir = mkdtempSync(join(tmpdir(), 'ks-sshd-'));
    chmodSync(dir, 0o755);
    const sshd = new TestSshd(dir, await freePort(), addresses, options.pathFirst);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', sshd.clientKey]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${sshd.clientKey}.pub`), { mode: 0o644 });
    await sshd.newHostKey();
    await sshd.launch();
    return sshd;
  }

  /** A connection as root on 127.0.0.1, its host key learnt on first use (this server's own known_hosts). */
  connectAsRoot(name: string): Promise<SshConnection> {
    return SshConnection.open({
      name,
      address: '127.0.0.1',
      port: this.port,
      user: 'root',
      identityFile: this.clientKey,
      hostKeyPolicy: 'accept-new',
      knownHosts: new KnownHosts(join(this.dir, 'known_hosts')),
      connectTimeoutMs: 5000,
    });
  }

  async newHostKey(): Promise<void> {
    rmSync(join(this.dir, 'host_key'), { force: true });
    rmSync(join(this.dir, 'host_key.pub'), { force: true });
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'host_key')]);
  }

  async launch(): Promise<void> {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const config = [
      `Port ${this.port}`,
      ...this.addresses.map((a) => `ListenAddress ${a}`),
      `HostKey ${join(this.dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'MaxSessions 100',
      'MaxStartups 100',
      'Subsystem sftp internal-sftp',
      ...(this.pathFirst.length
        ? [
            `SetEnv PATH=${[...this.pathFirst, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'].join(':')}`,
          ]
        : []),
    ].join('\n');
    writeFileSync(join(this.dir, 'sshd_config'), `${config}\n`);
    this.process = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    this.process.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    for (let i = 0; i < 100; i++) {
      if (await listening(this.addresses[0]!, this.port)) return;
      if (this.process.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`test sshd did not start: ${stderr}`);
  }

  async stop(): Promise<void> {
    const proc = this.process;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Local users for sudo tests: one with passwordless sudo, one whose sudo needs a password
 * (Debian's default timestamp_type=tty: asked on every command here), and one whose sudo needs
 * a password once and then trusts a ticket shared by all its sessions (timestamp_type=global).
 */
export const SUDO_USER = 'kubesmith-test-sudo';
export const PASSWORD_USER = 'kubesmith-test-pw';
export const GLOBAL_TICKET_USER = 'kubesmith-test-global';
export const TEST_PASSWORD = 'pw-Never-Logged-42';

/** Why sudo tests cannot run here (no sudo or no useradd), or undefined when they can. */
export function sudoUnavailable(): string | undefined {
  if (!existsSync('/usr/bin/sudo')) return 'no sudo (apt-get install sudo)';
  if (!existsSync('/usr/sbin/useradd')) return 'no useradd to create the test users';
  return undefined;
}

export async function ensureTestUsers(): Promise<void> {
  for (const user of [SUDO_USER, PASSWORD_USER, GLOBAL_TICKET_USER]) {
    if ((await execa('id', [user], { reject: false })).exitCode !== 0)
      await execa('useradd', ['-m', '-s', '/bin/sh', user]);
  }
  // '*' is not "locked" to sshd, so key logins work without PAM.
  await execa('usermod', ['-p', '*', SUDO_USER]);
  await execa('chpasswd', [], {
    input: `${PASSWORD_USER}:${TEST_PASSWORD}\n${GLOBAL_TICKET_USER}:${TEST_PASSWORD}\n`,
  });
  writeFileSync(
    '/etc/sudoers.d/kubesmith-test',
    [
      `${SUDO_USER} ALL=(ALL) NOPASSWD:ALL`,
      `${PASSWORD_USER} ALL=(ALL) ALL`,
      `Defaults:${GLOBAL_TICKET_USER} timestamp_type=global`,
      `${GLOBAL_TICKET_USER} ALL=(ALL) ALL`,
      '',
    ].join('\n'),
    { mode: 0o440 },
  );
}

/** Forgets every sudo ticket of the user, so that its next sudo asks again. */
export function forgetSudoTickets(user: string): void {
  rmSync(join('/run/sudo/ts', user), { force: true });
  rmSync(join('/var/run/sudo/ts', user), { force: true });
}
