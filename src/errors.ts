/** The few typed errors kubesmith raises; src/cli.ts turns them into messages and exit codes. */

export const ExitCode = {
  ok: 0,
  failed: 1,
  input: 2,
  unreachable: 3,
  locked: 4,
  interrupted: 130,
} as const;

export interface Problem {
  file?: string;
  line?: number;
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.path || '(root)'}: ${p.message}`;
}

/** Bad inventory, bad arguments, bad local files: nothing was touched. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    message: string,
    readonly problems: Problem[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export type SshErrorKind = 'dns' | 'refused' | 'timeout' | 'auth' | 'hostkey' | 'closed' | 'sudo' | 'other';

export class SshError extends Error {
  override readonly name = 'SshError';
  constructor(
    readonly host: string,
    readonly kind: SshErrorKind,
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  get transient(): boolean {
    return (
      this.kind === 'refused' || this.kind === 'timeout' || this.kind === 'closed' || this.kind === 'other'
    );
  }
}

export class RemoteCommandError extends Error {
  override readonly name = 'RemoteCommandError';
  constructor(
    readonly host: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(
      `${host}: '${command.length > 120 ? `${command.slice(0, 117)}...` : command}' exited ${exitCode ?? 'by signal'}${stderrTail ? `: ${stderrTail}` : ''}`,
      options,
    );
  }
}

export interface HostFailure {
  host: string;
  step: string;
  error: Error;
}

/** One or more hosts failed a step; the others went on as far as they could. */
export class StepFailedError extends Error {
  override readonly name = 'StepFailedError';
  constructor(
    readonly failures: HostFailure[],
    /** What to do next, when the command knows (e.g. that running it again resumes). */
    readonly hint?: string,
  ) {
    super(`${failures.length} host(s) failed: ${failures.map((f) => `${f.host} at ${f.step}`).join(', ')}`);
  }
}

/** An operation on the cluster could not be done (no healthy member, a check failed after a change, ...). */
export class OperationError extends Error {
  override readonly name: string = 'OperationError';
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No etcd member answers (all stopped or unhealthy): the one case a restore may go on without a safety snapshot. */
export class NoHealthyMemberError extends OperationError {
  override readonly name = 'NoHealthyMemberError';
}

/** Hosts that could not be reached over SSH, as one SshError (exit 3) naming each with its reason. */
export function unreachableHosts(
  failures: ReadonlyMap<string, { message: string; hint?: string }>,
  doing: string,
): SshError {
  const [first] = failures.keys();
  const list = [...failures].map(([host, f]) => `${host}: ${f.message}`).join('; ');
  const hints = [...new Set([...failures.values()].map((f) => f.hint).filter(Boolean))];
  return new SshError(
    first ?? '?',
    'other',
    `cannot ${doing}: unreachable over SSH: ${list}`,
    hints.join('; ') || undefined,
  );
}

export class LockedError extends Error {
  override readonly name = 'LockedError';
}

export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor() {
    super('interrupted');
  }
}

export function hintOf(error: unknown): string | undefined {
  if (error instanceof SshError || error instanceof RemoteCommandError || error instanceof OperationError)
    return error.hint;
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
