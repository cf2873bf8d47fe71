import { errorMessage, hintOf, SshError, type SshErrorKind } from '../errors.js';
import type { LoadedInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/schema.js';
import { BastionPool } from '../transport/bastion.js';
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
  /** Told about risky settings (e.g. host keys not checked) before connecting. */
  onWarning?: (message: string) => void;
}

/** Why ssh.hostKeyPolicy: off is dangerous, said whenever a run uses it. */
export const HOST_KEY_POLICY_OFF_WARNING =
  'ssh.hostKeyPolicy is off: host keys are not checked, so anyone between here and the hosts can read and change everything this run sends (sudo password and private keys included); use accept-new or strict';

/** What the connect script printed on a host, and when (the local midpoint of the command). */
export interface ConnectOutput {
  stdout: string;
  midpointMs: number;
}

/** Failures that say the host is not there (as opposed to refusing us: keys, host key, sudo). */
const UNREACHABLE_KINDS: ReadonlySet<SshErrorKind> = new Set(['dns', 'refused', 'timeout', 'closed']);

/** Whether a connect failure means the host could not be reached at all. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof SshError && UNREACHABLE_KINDS.has(error.kind);
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
    /** Risky settings this run uses, for callers without onWarning. */
    readonly warnings: readonly string[] = [],
    /** The failed hosts that could not be reached at all (no route, refused, timed out, cut off). */
    readonly unreachable: ReadonlySet<string> = new Set(),
  ) {}

  static async connect(
    loaded: LoadedInventory,
    hosts: readonly HostSpec[],
    options: PoolOptions,
  ): Promise<HostPool> {
    const knownHosts = new KnownHosts(options.knownHostsFile);
    const warnings = loaded.inventory.ssh.hostKeyPolicy === 'off' ? [HOST_KEY_POLICY_OFF_WARNING] : [];
    for (const warning of warnings) options.onWarning?.(warning);
    // Every host behind the bastion shares one connection to it.
    const bastions = new BastionPool();
    const connections = new Map<string, SshConnection>();
    const failures = new Map<string, ErrorInfo>();
    const arches = new Map<string, string>();
    const outputs = new Map<string, ConnectOutput>();
    const unreachable = new Set<string>();
    const argv = options.connectScript ? ['sh', '-c', `uname -m\n${options.connectScript}`] : ['uname', '-m'];
    await mapLimit(hosts, options.concurrency, async (host) => {
      const started = performance.now();
      let conn: SshConnection | undefined;
      try {
        conn = await SshConnection.open(
          sshTargetFor(loaded, host, { knownHosts, becomePassword: options.becomePassword }),
          { signal: options.signal, bastions },
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
        if (isUnreachable(error)) unreachable.add(host.name);
        options.onConnect?.(host.name, Math.round(performance.now() - started), info);
      }
    });
    return new HostPool(connections, failures, arches, outputs, warnings, unreachable);
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
