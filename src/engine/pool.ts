import { errorMessage, hintOf } from '../errors.js';
import type { LoadedInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';
import { KnownHosts } from '../transport/known-hosts.js';
import { SshConnection } from '../transport/ssh.js';
import { sshTargetFor } from '../transport/targets.js';
import type { ErrorInfo } from './events.js';
import { mapLimit } from './limit.js';

export interface PoolOptions {
  knownHostsFile: string;
  concurrency: number;
  becomePassword?: string;
  signal?: AbortSignal;
  onConnect?: (host: string, durationMs: number, error?: ErrorInfo) => void;
  /** Shell run right after `uname -m` in the same command (e.g. what a preflight needs to read). */
  connectScript?: string;
}

/** What the connect script printed on a host, and when (the local midpoint of the command). */
export interface ConnectOutput {
  stdout: string;
  midpointMs: number;
}

export function errorInfo(error: unknown): ErrorInfo {
  const tail = (error as { stderrTail?: string }).stderrTail;
  return { message: errorMessage(error), hint: hintOf(error), ...(tail ? { stderrTail: tail } : {}) };
}

/** One connection per host for the whole run, opened in parallel, each checked for working sudo (running uname -m). */
export class HostPool {
  private constructor(
    private readonly connections: Map<string, SshConnection>,
    readonly failures: Map<string, ErrorInfo>,
    /** `uname -m` of each connected host. */
    readonly machines: Map<string, string>,
    readonly connectOutputs: Map<string, ConnectOutput>,
  ) {}

  static async connect(
    loaded: LoadedInventory,
    hosts: readonly HostSpec[],
    options: PoolOptions,
  ): Promise<HostPool> {
    const knownHosts = new KnownHosts(options.knownHostsFile);
    const connections = new Map<string, SshConnection>();
    const failures = new Map<string, ErrorInfo>();
    const arches = new Map<string, string>();
    const outputs = new Map<string, ConnectOutput>();
    const argv = options.connectScript ? ['sh', '-c', `uname -m\n${options.connectScript}`] : ['uname', '-m'];
    await mapLimit(hosts, options.concurrency, async (host) => {
      const started = performance.now();
      let conn: SshConnection | undefined;
      try {
        conn = await SshConnection.open(
          sshTargetFor(loaded, host, { knownHosts, becomePassword: options.becomePassword }),
          { signal: options.signal },
        );
        const before = Date.now();
        const { stdout } = await conn.run(argv, { signal: options.signal });
        const newline = stdout.indexOf('\n');
        arches.set(host.name, (newline < 0 ? stdout : stdout.slice(0, newline)).trim());
        outputs.set(host.name, { stdout: stdout.slice(newline + 1), midpointMs: (before + Date.now()) / 2 });
        connections.set(host.name, conn);
        options.onConnect?.(host.name, Math.round(performance.now() - started));
      } catch (error) {
        conn?.close();
        const info = errorInfo(error);
        failures.set(host.name, info);
        options.onConnect?.(host.name, Math.round(performance.now() - started), info);
      }
    });
    return new HostPool(connections, failures, arches, outputs);
  }

  get(host: string): SshConnection {
    const conn = this.connections.get(host);
    if (!conn) throw new Error(`no connection to ${host}`);
    return conn;
  }

  /** Puts a new connection in place of the host's old one (after a reboot). */
  replace(host: string, conn: SshConnection): void {
    this.connections.set(host, conn);
  }

  has(host: string): boolean {
    return this.connections.has(host);
  }

  close(): void {
    for (const conn of this.connections.values()) conn.close();
  }
}
