#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import type { Arch } from './artifacts/catalog.js';
import { checkCluster, formatCheck } from './commands/check.js';
import { type GlobalOptions, openCluster } from './commands/context.js';
import { registerLabCommands } from './commands/lab.js';
import { formatBackupList, takeBackup } from './commands/backup.js';
import { download } from './commands/download.js';
import { checkBackup, restoreCluster } from './commands/restore.js';
import { acquireLock } from './engine/lock.js';
import { newCluster } from './commands/new.js';
import { runPlaybookCommand } from './commands/run.js';
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
import { VERSION } from './version.js';

/** Ctrl-C once: cancel cleanly (no new work, running commands stopped). Twice: exit 130 now. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    process.stderr.write('\ninterrupting: finishing cleanly (Ctrl-C again to exit at once)\n');
    controller.abort();
  });
  return controller.signal;
}

async function promptSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new InputError('--ask-become-pass needs a terminal to ask on');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(question);
  output._writeToOutput = () => undefined;
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Asks for a typed confirmation; without a terminal, --yes is the only way on. */
async function confirm(question: string, expected: string): Promise<void> {
  if (!process.stdin.isTTY) throw new InputError('no terminal to confirm on: re-run with --yes to go ahead');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  if (answer.trim() !== expected) throw new InputError('not confirmed: nothing was changed');
}

function globals(command: Command): GlobalOptions & { askBecomePass?: boolean } {
  return command.optsWithGlobals();
}

async function becomePassword(command: Command): Promise<string | undefined> {
  return globals(command).askBecomePass ? promptSecret('sudo password: ') : undefined;
}

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
    .exitOverride();

  program
    .command('new')
    .description('create clusters/<cluster>/inventory.yaml from the example')
    .argument('<cluster>', 'cluster name')
    .action(async (cluster: string, _o, cmd: Command) => {
      const file = await newCluster(cluster, globals(cmd).home);
      process.stdout.write(`created ${file}\nedit its hosts, then run: kubesmith validate ${cluster}\n`);
    });

  program
    .command('validate')
    .description('check the inventory; reports every problem at once')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .action(async (cluster: string | undefined, _o, cmd: Command) => {
      const { loaded } = await openCluster(cluster, globals(cmd));
      const inv = loaded.inventory;
      const count = (role: string) => inv.hosts.filter((h) => h.roles.includes(role as never)).length;
      process.stdout.write(
        `${loaded.file}: valid (${inv.hosts.length} hosts: ${count('etcd')} etcd, ${count('master')} master, ${count('node')} node; Kubernetes ${inv.cluster.kubernetesVersion})\n`,
      );
    });

  program
    .command('inventory')
    .description('inventory tools')
    .command('show')
    .description('print the effective inventory, defaults filled in')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .action(async (cluster: string | undefined, _o, cmd: Command) => {
      const { loaded } = await openCluster(cluster, globals(cmd));
      process.stdout.write(
        globals(cmd).output === 'json'
          ? `${JSON.stringify(loaded.inventory, null, 2)}\n`
          : stringify(loaded.inventory),
      );
    });

  program
    .command('check')
    .description('connect to every host and report what would stop a setup (changes nothing)')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .action(async (cluster: string | undefined, _o, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      const report = await checkCluster(opened, {
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
      });
      if (globals(cmd).output === 'json') {
        process.stdout.write(
          `${JSON.stringify({ facts: Object.fromEntries(report.facts), findings: report.findings, blocking: report.blocking })}\n`,
        );
      } else process.stdout.write(`${formatCheck(opened, report)}\n`);
      if (report.blocking) process.exitCode = ExitCode.failed;
    });

  program
    .command('setup')
    .description('build the cluster: run all steps of playbooks/setup.yaml, or one by id or number')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .argument('[step]', "'all', a step id (prepare) or number (01)", 'all')
    .option('--dry-run', 'show what would change, with diffs; change nothing')
    .option('--hosts <names>', 'only these hosts (comma separated)', (v: string) =>
      v.split(',').filter(Boolean),
    )
    .action(
      async (
        clusterArg: string | undefined,
        stepArg: string,
        options: { dryRun?: boolean; hosts?: string[] },
        cmd: Command,
      ) => {
        // With -i FILE the cluster name is optional: `setup -i FILE 01` names a step.
        const stepOnly = globals(cmd).inventory !== undefined && cmd.args.length === 1;
        const [cluster, step] = stepOnly ? [undefined, clusterArg ?? 'all'] : [clusterArg, stepArg];
        const opened = await openCluster(cluster, globals(cmd));
        const unknown = options.hosts?.filter(
          (h) => !opened.loaded.inventory.hosts.some((x) => x.name === h),
        );
        if (unknown?.length)
          throw new InputError(`--hosts names hosts not in the inventory: ${unknown.join(', ')}`);
        await runPlaybookCommand(opened, 'setup', step, {
          ...globals(cmd),
          ...options,
          becomePassword: await becomePassword(cmd),
          signal: interruptSignal(),
        });
      },
    );

  program
    .command('verify')
    .description("check a built cluster without changing it: every setup step's health checks")
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .action(async (cluster: string | undefined, _o, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      await runPlaybookCommand(opened, 'setup', 'all', {
        ...globals(cmd),
        verifyOnly: true,
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
      });
    });

  program
    .command('download')
    .description('fetch and verify every artifact of the cluster version into the cache; --bundle writes an offline bundle')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .option('--arch <list>', 'architectures (amd64,arm64)', 'amd64')
    .option('--bundle <path>', 'also write a bundle directory, or a .tar, for artifacts.source: dir')
    .action(async (cluster: string | undefined, options: { arch: string; bundle?: string }, cmd: Command) => {
      const arches = options.arch.split(',').filter(Boolean);
      const bad = arches.filter((a) => a !== 'amd64' && a !== 'arm64');
      if (bad.length || arches.length === 0) throw new InputError(`--arch takes amd64 and/or arm64, not ${bad.join(',') || 'nothing'}`);
      const opened = await openCluster(cluster, globals(cmd));
      const result = await download(opened, {
        arches: arches as Arch[],
        bundle: options.bundle,
        signal: interruptSignal(),
        say: (line) => process.stderr.write(`download: ${line}\n`),
      });
      if (result.bundle) process.stdout.write(`bundle written: ${result.bundle}\n`);
    });

  program
    .command('backup')
    .description('snapshot etcd from a healthy member into clusters/<name>/backups/, with the PKI and inventory')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .option('--note <text>', 'a note stored with the backup')
    .option('--list', 'list the backups instead of taking one')
    .action(async (cluster: string | undefined, options: { note?: string; list?: boolean }, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      if (options.list) {
        process.stdout.write(`${await formatBackupList(opened)}\n`);
        return;
      }
      const lock = await acquireLock(opened.paths.lock, 'backup');
      try {
        const backup = await takeBackup(opened, { note: options.note, becomePassword: await becomePassword(cmd), signal: interruptSignal(), say });
        const m = backup.manifest;
        process.stdout.write(`backup ${backup.name}: revision ${m.revision}, ${m.keyCount} keys, ${(m.snapshot.size / 1048576).toFixed(1)} MiB, from ${m.takenFrom}, in ${(backup.durationMs / 1000).toFixed(1)}s\n${backup.dir}\n`);
      } finally {
        await lock.release();
      }
    });

  program
    .command('restore')
    .description('replace etcd data on every member with a backup (old data is kept aside)')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .argument('[backup]', "a backup name from 'backup --list', or latest", 'latest')
    .option('--yes', 'do not ask for confirmation')
    .option('--force', 'restore even when the member count differs from the backup')
    .action(async (cluster: string | undefined, selector: string, options: { yes?: boolean; force?: boolean }, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      const backup = await checkBackup(opened, selector, options.force ?? false);
      const m = backup.manifest;
      const members = opened.loaded.inventory.hosts.filter((h) => h.roles.includes('etcd')).map((h) => h.name);
      process.stdout.write(
        [
          `restore plan for cluster ${m.cluster}:`,
          `  backup     ${backup.name} (${m.createdAt}, revision ${m.revision}, ${m.keyCount} keys${m.note ? `, note: ${m.note}` : ''})`,
          `  members    ${members.join(', ')}: etcd stopped, data replaced, old data kept aside`,
          '  apiservers stopped during the restore and started after it, where running',
          '  first      a safety snapshot of the current data, if the cluster answers',
          '',
        ].join('\n'),
      );
      if (!options.yes) await confirm(`this replaces etcd data on ${members.length} member(s). Type the cluster name (${m.cluster}) to go on: `, m.cluster);
      const lock = await acquireLock(opened.paths.lock, `restore ${backup.name}`);
      try {
        const result = await restoreCluster(opened, { backup, becomePassword: await becomePassword(cmd), signal: interruptSignal(), say });
        process.stdout.write(`restored ${backup.name}: revision ${result.revision}, ${result.keyCount} keys, all members healthy\nprevious data kept at:\n${result.keptAside.map((k) => `  ${k}`).join('\n')}\n`);
      } finally {
        await lock.release();
      }
    });

  registerLabCommands(program);
  return program;
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
    say(`error: ${error.message}`);
    return ExitCode.failed;
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
