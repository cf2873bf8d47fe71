import type { Arch } from '../artifacts/catalog.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import type { Argv } from '../transport/quote.js';
import type { ExecOptions, ExecResult, SshConnection } from '../transport/ssh.js';
import type { VerifyReport } from '../verify/report.js';
import type { ActionResult, Resource } from './resources.js';

/** What every part of a run shares: the inventory, local state, and run-wide memo. */
export interface RunContext {
  readonly inventory: Inventory;
  /** The inventory file, for paths in it that are relative to it. */
  readonly inventoryFile: string;
  /** Where this cluster's local state lives (pki/, known_hosts, ...). */
  readonly clusterDir: string;
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  /** Data shared between hosts within one run (artifacts resolved once, turns, ...). */
  readonly shared: Map<string, unknown>;
  log(message: string): void;
}

/** What a step sees before any host changes: the architectures of the run's hosts. */
export interface PreflightContext extends RunContext {
  readonly arches: ReadonlySet<Arch>;
}

/** What a step sees while it works on one host. Every change goes through apply(). */
export interface StepContext extends RunContext {
  readonly host: HostSpec;
  /** The host's connection, for reads that decide what to want. */
  readonly conn: SshConnection;
  /** Brings the host to the wanted state; reports and returns one result per resource. */
  apply(resources: readonly Resource[]): Promise<ActionResult[]>;
  /** Runs a read-only command and throws unless it exits 0. */
  read(argv: Argv, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Reboots the host and waits until it answers again with a new boot id; ctx.conn is then the
   * new connection. Callers take turns (oneAtATime) so that no two hosts are down at once.
   */
  reboot(options?: { timeoutMs?: number }): Promise<void>;
}

export interface Step {
  /** Equals the file name in src/steps/ and the playbook entry. */
  readonly id: string;
  readonly title: string;
  /** Run every host of this step at once, whatever ssh.concurrency says (members that must start together). */
  readonly allHostsAtOnce?: boolean;
  /**
   * Local checks before any host of the run changes (artifacts present and intact, certificates
   * issuable). Runs once per run for every planned step; a failure stops the run untouched.
   */
  preflight?(ctx: PreflightContext): Promise<void>;
  run(ctx: StepContext): Promise<void>;
  /** Read-only checks after the run, e.g. health. Not called in dry-run. */
  verify?(ctx: StepContext): Promise<void>;
}

/** What a step that runs once on the deploy machine sees: the connected hosts of its groups. */
export interface DeployContext extends RunContext {
  /** The step's hosts (connected, none failed), in inventory order. */
  readonly hosts: readonly HostSpec[];
  /** A host's connection (one of `hosts`, or any other host the run connected). */
  conn(host: string): SshConnection;
  /** Counts a change this step made on a host, for the run's summary. */
  changed(host: string): void;
  /** Hands the renderers a verify report (the checks table). */
  report(report: VerifyReport): void;
}

/**
 * A phase that works on the cluster as a whole, once per run, from the deploy machine (plan,
 * guard, snapshot, a change that must be all or nothing across members). A failure fails every
 * host of the step.
 */
export interface DeployStep {
  readonly id: string;
  readonly title: string;
  readonly onDeployMachine: true;
  /**
   * Only reads: it also runs in verify, and sees every connected host of its groups, also
   * those an earlier step failed on (it reports on them).
   */
  readonly readOnly?: boolean;
  preflight?(ctx: PreflightContext): Promise<void>;
  run(ctx: DeployContext): Promise<void>;
}

export type AnyStep = Step | DeployStep;

export function isDeployStep(step: AnyStep): step is DeployStep {
  return 'onDeployMachine' in step && step.onDeployMachine === true;
}
