#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { registerCertsCommands } from './commands/certs-cli.js';
import { registerClusterCommands } from './commands/cluster-cli.js';
import { registerDashboardTokenCommand } from './commands/dashboard-token.js';
import { registerEtcdCommands } from './commands/etcd-cli.js';
import { registerKubeconfigCommand } from './commands/kubeconfig.js';
import { registerLabCommands } from './commands/lab.js';
import { registerMasterCommands } from './commands/masters.js';
import { registerNodeCommands } from './commands/nodes.js';
import { registerPowerCommands } from './commands/power.js';
import { registerUpgradeCommand } from './commands/upgrade.js';
import {
  ExitCode,
  formatProblem,
  InputError,
  InterruptedError,
  LockedError,
  OperationError,
  RemoteCommandError,
  SshError,
  StepFailedError,
} from './errors.js';
import { kubesmithHome } from './home.js';
import { useKubesmithHome } from './hostlib/marker.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('kubesmith')
    .description('Install and run Kubernetes on your own machines over SSH')
    .version(VERSION)
    .option('--home <dir>', 'kubesmith home (default $KUBESMITH_HOME or ~/.kubesmith)')
    .option('-i, --inventory <file>', 'use this inventory file instead of a cluster name')
    .addOption(
      new Option('-o, --output <mode>', 'output style')
        .choices(['auto', 'tty', 'plain', 'json'])
        .default('auto'),
    )
    .option('--allow-even-etcd', 'accept an even number of etcd members')
    .option('--ask-become-pass', 'ask for the sudo password of a non-root SSH user')
    .option('-v, --verbose', 'show unchanged actions too')
    .showHelpAfterError()
    .exitOverride()
    // Cluster ids live in the home's clusters/<name>/cluster-id: the one --home names.
    .hook('preAction', (_program, action) => {
      useKubesmithHome(kubesmithHome((action.optsWithGlobals() as { home?: string }).home));
    });

  registerClusterCommands(program);
  registerEtcdCommands(program);
  registerCertsCommands(program);
  registerLabCommands(program);
  registerNodeCommands(program);
  registerMasterCommands(program);
  registerPowerCommands(program);
  registerUpgradeCommand(program);
  registerDashboardTokenCommand(program);
  registerKubeconfigCommand(program);
  return program;
}

/** A run that failed only because hosts could not be reached exits 3, as documented; any other failure 1. */
export function exitCodeOf(error: StepFailedError): number {
  const unreachable = error.failures.length > 0 && error.failures.every((f) => f.step === 'connect');
  return unreachable ? ExitCode.unreachable : ExitCode.failed;
}

/** The one place errors become messages and exit codes. */
export function report(error: unknown): number {
  const say = (text: string) => process.stderr.write(`${text}\n`);
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.input;
  if (error instanceof InputError) {
    say(`error: ${error.message}`);
    for (const p of error.problems) say(`  ${formatProblem(p)}`);
    return ExitCode.input;
  }
  if (error instanceof SshError) {
    say(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`);
    return ExitCode.unreachable;
  }
  if (error instanceof RemoteCommandError || error instanceof OperationError) {
    say(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`);
    return ExitCode.failed;
  }
  if (error instanceof StepFailedError) {
    say(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`);
    return exitCodeOf(error);
  }
  if (error instanceof LockedError) {
    say(`error: ${error.message}`);
    return ExitCode.locked;
  }
  if (error instanceof InterruptedError) return ExitCode.interrupted;
  say(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  say('this is a bug in kubesmith; please report it with the run log');
  return ExitCode.failed;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return report(error);
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
