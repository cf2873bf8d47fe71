import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Arch } from '../artifacts/catalog.js';
import { ExitCode, InputError } from '../errors.js';
import { checkCluster, formatCheck } from './check.js';
import { becomePassword, globals, interruptSignal } from './cli-helpers.js';
import { runConformanceCommand } from './conformance.js';
import { openCluster } from './context.js';
import { download } from './download.js';
import { newCluster } from './new.js';
import { runPlaybookCommand } from './run.js';

/** new, validate, inventory show, check, setup, verify, download. */
export function registerClusterCommands(program: Command): void {
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
    .argument('[step]', "'all', a step id (prepare), a number (01) or a range (01-03)", 'all')
    .option('--dry-run', 'show what would change, with diffs; change nothing')
    .option('--hosts <names>', 'only these hosts (comma separated)', (v: string) =>
      v.split(',').filter(Boolean),
    )
    .option(
      '--skip-unreachable',
      'go on without hosts that cannot be reached when each is a worker (role node only), and name them as skipped; refused if any is etcd or master',
    )
    .action(
      async (
        clusterArg: string | undefined,
        stepArg: string,
        options: { dryRun?: boolean; hosts?: string[]; skipUnreachable?: boolean },
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
    .description(
      "prove a cluster works without changing it: the setup steps' own checks, then a table of health checks (etcd, control plane, nodes, network, addons, a functional smoke, certificates); exit 0 only when none failed",
    )
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .argument('[step]', "'all', a step id, a number (01) or a range (01-03): the steps set up so far", 'all')
    .option(
      '--conformance [mode]',
      "then run Kubernetes' own e2e tests: quick (default), network, or a ginkgo focus regex",
    )
    .option('--e2e-binary <path>', 'the e2e.test binary for --conformance (default: the artifact cache)')
    .option(
      '--save-evidence <file>',
      'also write what the checks read (API objects, host answers) to this file, as JSON (0600)',
    )
    .action(
      async (
        cluster: string | undefined,
        step: string,
        options: { saveEvidence?: string; conformance?: string | true; e2eBinary?: string },
        cmd: Command,
      ) => {
        const opened = await openCluster(cluster, globals(cmd));
        const signal = interruptSignal();
        await runPlaybookCommand(opened, 'setup', step, {
          ...globals(cmd),
          verifyOnly: true,
          evidenceFile: options.saveEvidence,
          becomePassword: await becomePassword(cmd),
          signal,
        });
        if (options.conformance)
          await runConformanceCommand(opened, options.conformance === true ? 'quick' : options.conformance, {
            ...globals(cmd),
            signal,
            ...(options.e2eBinary ? { e2eBinary: options.e2eBinary } : {}),
          });
      },
    );

  program
    .command('download')
    .description(
      'fetch and verify every artifact of the cluster version into the cache; --bundle writes an offline bundle, with the container images',
    )
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .option('--arch <list>', 'architectures (amd64,arm64)', 'amd64')
    .option('--bundle <path>', 'also write a bundle directory, or a .tar, for artifacts.source: dir')
    .action(async (cluster: string | undefined, options: { arch: string; bundle?: string }, cmd: Command) => {
      const arches = options.arch.split(',').filter(Boolean);
      const bad = arches.filter((a) => a !== 'amd64' && a !== 'arm64');
      if (bad.length || arches.length === 0)
        throw new InputError(`--arch takes amd64 and/or arm64, not ${bad.join(',') || 'nothing'}`);
      const opened = await openCluster(cluster, globals(cmd));
      const result = await download(opened, {
        arches: arches as Arch[],
        bundle: options.bundle,
        signal: interruptSignal(),
        say: (line) => process.stderr.write(`download: ${line}\n`),
      });
      if (result.bundle) process.stdout.write(`bundle written: ${result.bundle}\n`);
    });
}
