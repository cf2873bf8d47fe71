import type { HostSpec, Inventory } from '../inventory/schema.js';
import type { Argv } from '../transport/quote.js';
import type { ExecOptions, ExecResult, SshConnection } from '../transport/ssh.js';
import type { ActionResult, Resource } from './resources.js';

/** What a step sees while it works on one host. Every change goes through apply(). */
export interface StepContext {
  readonly host: HostSpec;
  readonly inventory: Inventory;
  /** Where this cluster's local state lives (pki/, known_hosts, ...). */
  readonly clusterDir: string;
  /** The inventory file, for paths in it that are relative to it. */
  readonly inventoryFile: string;
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  /** The host's connection, for reads that decide what to want. */
  readonly conn: SshConnection;
  /** Brings the host to the wanted state; reports and returns one result per resource. */
  apply(resources: readonly Resource[]): Promise<ActionResult[]>;
  /** Runs a read-only command and throws unless it exits 0. */
  read(argv: Argv, options?: ExecOptions): Promise<ExecResult>;
  log(message: string): void;
  /** Data shared between hosts within one run (e.g. facts gathered once). */
  readonly shared: Map<string, unknown>;
}

export interface Step {
  /** Equals the file name in src/steps/ and the playbook entry. */
  readonly id: string;
  readonly title: string;
  /** Run every host of this step at once, whatever ssh.concurrency says (members that must start together). */
  readonly allHostsAtOnce?: boolean;
  run(ctx: StepContext): Promise<void>;
  /** Read-only checks after the run, e.g. health. Not called in dry-run. */
  verify?(ctx: StepContext): Promise<void>;
}
