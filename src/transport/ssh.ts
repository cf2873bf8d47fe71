import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Duplex, Readable, type Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';

type Client = InstanceType<typeof ssh2.Client>;

import { InterruptedError, RemoteCommandError, SshError } from '../errors.js';
import { BastionPool } from './bastion.js';
import { classify, connectClient } from './connect.js';
import type { HostKeyPolicy, KnownHosts } from './known-hosts.js';
import { type Argv, commandLine, sh } from './quote.js';
import {
  hashedFile,
  isGzipSource,
  receiveShell,
  type StageSource,
  stagedName,
  verifyShell,
} from './staging.js';
import { type SudoHandshake, sudoHandshake, sudoMarkers, sudoWithPassword } from './sudo.js';

/** How long a command may run unless told otherwise: long enough for a package install or a large upload. */
export const EXEC_TIMEOUT_MS = 30 * 60_000;

export { KEEPALIVE_COUNT_MAX, KEEPALIVE_INTERVAL_MS } from './connect.js';

export interface SshEndpoint {
  address: string;
  port: number;
  user: string;
  identityFile?: string;
}

export interface SshTarget extends SshEndpoint {
  /** The inventory name, used in every message. */
  name: string;
  hostKeyPolicy: HostKeyPolicy;
  knownHosts: KnownHosts;
  connectTimeoutMs: number;
  bastion?: SshEndpoint;
  /** sudo password for non-root users (--ask-become-pass); never logged. */
  becomePassword?: string;
  agent?: string;
}

export interface ExecOptions {
  /** Run as root through sudo when the login user is not root (default true). */
  sudo?: boolean;
  stdin?: string | Buffer | Readable;
  /** Stream stdout here instead of collecting it. */
  stdout?: Writable;
  signal?: AbortSignal;
  /** The command is stopped (TERM) and fails as a timeout after this long; default EXEC_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface ExecResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal?: string;
  durationMs: number;
}

export interface UploadOptions {
  mode?: number;
  owner?: string;
  group?: string;
  signal?: AbortSignal;
}

export interface ConnectOptions {
  attempts?: number;
  backoffMs?: number;
  signal?: AbortSignal;
  /** The run's bastion connections, shared by every host behind the same bastion. */
  bastions?: BastionPool;
}

const SUDO_PASSWORD_NEEDED = /sudo: (a password is required|a terminal is required)/;
const SUDO_PASSWORD_REFUSED = /sudo: (\d+ incorrect password attempts?|no password was provided)/;

/** One persistent SSH connection to a host, reused by every command of a run. */
export class SshConnection {
  private lost: SshError | undefined;
  readonly stats = { commands: 0, bytesUploaded: 0, passwordsSent: 0 };
  /** What each running command does when the connection drops. */
  private readonly running = new Set<() => void>();
  /** sha256 of what was streamed to each staged file, checked on the host before it is moved into place. */
  private readonly sentSha256 = new Map<string, string>();

  private constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    /** The bastion connections this one came through (and a reconnect should use). */
    readonly bastions: BastionPool,
    private readonly releaseBastion: () => void = () => undefined,
  ) {
    client.on('close', () => {
      this.lost ??= new SshError(target.name, 'closed', `${target.name}: connection lost`);
      releaseBastion();
      for (const onLost of this.running) onLost();
    });
  }

  static async open(target: SshTarget, options: ConnectOptions = {}): Promise<SshConnection> {
    const attempts = options.attempts ?? 3;
    let delay = options.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        return await SshConnection.openOnce(target, options.bastions ?? new BastionPool(), options.signal);
      } catch (error) {
        if (
          !(error instanceof SshError) ||
          !error.transient ||
          attempt >= attempts ||
          options.signal?.aborted
        )
          throw error;
        await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
        delay *= 2;
      }
    }
  }

  private static async openOnce(
    target: SshTarget,
    bastions: BastionPool,
    signal?: AbortSignal,
  ): Promise<SshConnection> {
    if (!target.bastion) return new SshConnection(target, await connectClient(target, signal), bastions);
    const hop = target.bastion;
    const bastionTarget: SshTarget = {
      ...target,
      ...hop,
      name: `${target.name} via bastion ${hop.address}`,
      bastion: undefined,
    };
    const key = `${hop.user}@${hop.address}:${hop.port}:${hop.identityFile ?? ''}`;
    const bastion = await bastions.acquire(key, () => connectClient(bastionTarget, signal));
    try {
      const sock = await new Promise<ConnectConfig['sock']>((resolve, reject) => {
        bastion.client.forwardOut('127.0.0.1', 0, target.address, target.port, (err, stream) =>
          err ? reject(classify(target, err)) : resolve(stream),
        );
      });
      return new SshConnection(target, await connectClient(target, signal, sock), bastions, bastion.release);
    } catch (error) {
      // The hop failed: let go of the bastion (closed when no other host uses it).
      bastion.release();
      throw error;
    }
  }

  /** Whether commands go through sudo with the password (--ask-become-pass for a non-root user). */
  private withPassword(sudo: boolean): boolean {
    return sudo && this.target.user !== 'root' && this.target.becomePassword !== undefined;
  }

  private wrap(argv: Argv, sudo: boolean): { command: string; markers?: ReturnType<typeof sudoMarkers> } {
    const line = commandLine(argv);
    if (!sudo || this.target.user === 'root') return { command: line };
    if (!this.withPassword(sudo)) return { command: `sudo -n -- ${line}` };
    const markers = sudoMarkers();
    return { command: sudoWithPassword(argv, markers), markers };
  }

  /** Runs a command; the result has the same shape whatever the exit code. */
  async exec(argv: Argv, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.lost) throw this.lost;
    if (options.signal?.aborted) throw new InterruptedError();
    const { command, markers } = this.wrap(argv, options.sudo ?? true);
    const shown = commandLine(argv);
    const started = performance.now();
    this.stats.commands++;
    // Listeners are attached inside the exec callback: exit-status can arrive in the same
    // packet batch as the exec confirmation, before any later microtask would run.
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) return reject(classify(this.target, error));
        this.collect(channel, { shown, started, markers }, options, resolve, reject);
      });
    });
  }

  private collect(
    channel: ClientChannel,
    { shown, started, markers }: { shown: string; started: number; markers?: ReturnType<typeof sudoMarkers> },
    options: ExecOptions,
    resolve: (result: ExecResult) => void,
    reject: (error: Error) => void,
  ): void {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    const { stdin } = options;
    const dropStdin = () => {
      if (stdin instanceof Readable) stdin.destroy();
    };
    const onAbort = () => {
      channel.signal('TERM');
      channel.close();
      dropStdin();
      reject(new InterruptedError());
    };
    const timeoutMs = options.timeoutMs ?? EXEC_TIMEOUT_MS;
    const timer = setTimeout(() => {
      channel.signal('TERM');
      channel.close();
      dropStdin();
      reject(
        new SshError(
          this.target.name,
          'timeout',
          `${this.target.name}: '${shown}' did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`,
          'check the host (a hung package manager or mount?); re-run when it is responsive',
        ),
      );
    }, timeoutMs);
    const onLost = () =>
      reject(
        new SshError(
          this.target.name,
          'closed',
          `${this.target.name}: connection lost while running '${shown}'`,
          'the host may have rebooted or the network dropped; re-run when it is back',
        ),
      );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.running.add(onLost);
    // Before the close handler below: it flushes what stderr held back while sudo was asked.
    const handshake = this.handshake(channel, markers, (chunk) => err.push(chunk));
    channel.on('exit', (code: number | null, signalName?: string) => {
      exitCode = code;
      exitSignal = signalName ?? undefined;
    });
    if (options.stdout) channel.pipe(options.stdout);
    else channel.on('data', (chunk: Buffer) => out.push(chunk));
    channel.on('close', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.running.delete(onLost);
      if (this.lost && exitCode === null && exitSignal === undefined) return onLost();
      resolve({
        command: shown,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
        signal: exitSignal,
        durationMs: Math.round(performance.now() - started),
      });
    });
    // The command's own stdin flows only once it runs: never into sudo's password prompt.
    void handshake.running.then((running) => {
      if (!running) return dropStdin();
      if (stdin instanceof Readable) {
        stdin.once('error', (error) => {
          channel.close();
          reject(error);
        });
        stdin.pipe(channel);
      } else channel.end(stdin);
    });
  }

  /** The sudo handshake for a command run with the password, or one that is running at once. */
  private handshake(
    channel: ClientChannel,
    markers: ReturnType<typeof sudoMarkers> | undefined,
    stderr: (chunk: Buffer) => void,
  ): Pick<SudoHandshake, 'running'> {
    if (!markers) {
      channel.stderr.on('data', stderr);
      return { running: Promise.resolve(true) };
    }
    const handshake = sudoHandshake(channel, this.target.becomePassword ?? '', markers, stderr);
    channel.once('close', () => {
      this.stats.passwordsSent += handshake.passwordsSent();
    });
    return handshake;
  }

  /**
   * A raw byte stream to a command run as root (e.g. socat to a local socket): how the deploy
   * machine talks to a host's local-only APIs. stderr is kept for the error message.
   */
  async openStream(argv: Argv): Promise<{ stream: Duplex; stderr: () => string }> {
    if (this.lost) throw this.lost;
    const { command, markers } = this.wrap(argv, true);
    this.stats.commands++;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) return reject(classify(this.target, error));
        const err: Buffer[] = [];
        const stderr = () => Buffer.concat(err).toString('utf8').trim();
        void this.handshake(channel, markers, (chunk) => err.push(chunk)).running.then((running) =>
          running
            ? resolve({ stream: channel, stderr })
            : reject(
                new SshError(
                  this.target.name,
                  'sudo',
                  `${this.target.name}: sudo refused '${commandLine(argv)}': ${stderr()}`,
                ),
              ),
        );
      });
    });
  }

  /** Runs a command and throws RemoteCommandError unless it exits 0. */
  async run(argv: Argv, options: ExecOptions & { hint?: string } = {}): Promise<ExecResult> {
    const result = await this.exec(argv, options);
    if (result.exitCode === 0) return result;
    if (SUDO_PASSWORD_REFUSED.test(result.stderr)) {
      throw new SshError(
        this.target.name,
        'sudo',
        `${this.target.name}: sudo refused the password given for user '${this.target.user}'`,
        'check the password given to --ask-become-pass',
      );
    }
    if (SUDO_PASSWORD_NEEDED.test(result.stderr)) {
      throw new SshError(
        this.target.name,
        'sudo',
        `${this.target.name}: sudo for user '${this.target.user}' needs a password`,
        'give the user passwordless sudo (NOPASSWD) or pass --ask-become-pass',
      );
    }
    const tail = result.stderr.trim().split('\n').slice(-5).join('\n');
    throw new RemoteCommandError(this.target.name, result.command, result.exitCode, tail, options.hint);
  }

  /**
   * Streams content to a temporary name beside dest, written as root through the exec channel
   * (no SFTP: one stream, sudo-capable, and cheaper per byte than SFTP's request/response packets).
   * A gzip source is decompressed on the host as it arrives; either way the result is checked
   * against the content's sha256 by installCommand before it is moved into place.
   */
  async stage(source: StageSource, dest: string, signal?: AbortSignal): Promise<string> {
    const staged = stagedName(dest);
    const gzip = isGzipSource(source);
    const hash = createHash('sha256');
    let stdin: Buffer | Readable;
    if (Buffer.isBuffer(source)) stdin = source;
    else if (isGzipSource(source)) stdin = createReadStream(source.gzipPath, { highWaterMark: 1 << 20 });
    else stdin = hashedFile(source.localPath, hash);
    if (Buffer.isBuffer(source)) hash.update(source);
    const result = await this.exec(['sh', '-c', receiveShell(staged, gzip)], { stdin, signal });
    if (result.exitCode !== 0) {
      throw new SshError(
        this.target.name,
        'other',
        `${this.target.name}: upload of ${dest} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
        'check that the parent directory exists and the disk has space',
      );
    }
    this.sentSha256.set(staged, isGzipSource(source) ? source.contentSha256 : hash.digest('hex'));
    // Sized before adding: `total += await size()` would read the total before the await and
    // lose the bytes of uploads that finish meanwhile. Bytes on the wire: the gzip's, when gzipped.
    const size = Buffer.isBuffer(source)
      ? source.length
      : (await stat(isGzipSource(source) ? source.gzipPath : source.localPath)).size;
    this.stats.bytesUploaded += size;
    return staged;
  }

  /**
   * Shell text that moves a staged file into place atomically with its mode and owner, once its
   * sha256 on the host is what was sent (a file that differs is removed and the script stops).
   */
  installCommand(staged: string, dest: string, options: UploadOptions = {}): string {
    const mode = (options.mode ?? 0o644).toString(8);
    const owner = `${options.owner ?? 'root'}:${options.group ?? options.owner ?? 'root'}`;
    const move = sh`chmod ${mode} ${staged} && chown ${owner} ${staged} && mv -f ${staged} ${dest}`;
    const sha256 = this.sentSha256.get(staged);
    if (sha256 === undefined)
      throw new Error(`${staged} was not staged by this connection; nothing to verify it against`);
    this.sentSha256.delete(staged);
    // `|| exit 1`: set -e ignores a failure inside an && list, and the script would go on.
    return `${verifyShell(staged, dest, sha256)} && ${move} || exit 1`;
  }

  /**
   * Shell text that writes small content beside dest from a base64 here-document and moves it
   * into place: files ride inside the install script instead of costing a round trip each.
   */
  inlineInstall(content: Buffer, dest: string, options: UploadOptions = {}): string {
    const staged = stagedName(dest);
    const encoded = content.toString('base64').replace(/.{1,76}/g, '$&\n');
    this.stats.bytesUploaded += content.length;
    this.sentSha256.set(staged, createHash('sha256').update(content).digest('hex'));
    return [
      sh`( umask 077 && base64 -d > ${staged} ) <<'KUBESMITH_BASE64'`,
      `${encoded}KUBESMITH_BASE64`,
      this.installCommand(staged, dest, options),
    ].join('\n');
  }

  /** Writes one file atomically: streamed beside dest, then mode, owner and rename in one command. */
  async upload(source: StageSource, dest: string, options: UploadOptions = {}): Promise<void> {
    const staged = await this.stage(source, dest, options.signal);
    await this.run(['sh', '-c', this.installCommand(staged, dest, options)], { signal: options.signal });
  }

  close(): void {
    this.client.end();
    this.releaseBastion();
  }
}
