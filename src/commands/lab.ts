import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { kubesmithHome } from '../home.js';
import { labBuild, labDown, labStatus, labUp } from '../lab/lab.js';
import { type ComponentOrigin, uniqueOrigins } from '../lab/lab-bundle.js';
import { formatTable } from '../render/table.js';

const say = (line: string) => process.stderr.write(`lab: ${line}\n`);

function count(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 60)
    throw new InputError(`machine count '${text}' must be a whole number from 1 to 60`);
  return n;
}

/** Where each artifact came from and how long it took, when the bundle was assembled now. */
function writeOrigins(origins: ComponentOrigin[]): void {
  if (origins.length === 0) return;
  process.stdout.write(
    `${formatTable(
      ['COMPONENT', 'VERSION', 'SOURCE', 'TIME'],
      origins.map((o) => [
        o.component,
        o.version,
        o.cached ? `${o.source} (cached)` : o.source,
        `${o.seconds.toFixed(1)}s`,
      ]),
    )}\n\n`,
  );
}

export function registerLabCommands(program: Command): void {
  const lab = program
    .command('lab')
    .description('a local lab of real Debian machines (systemd-nspawn) to try kubesmith on; needs root');
  const home = (cmd: Command) => kubesmithHome((cmd.optsWithGlobals() as { home?: string }).home);

  lab
    .command('up')
    .description('boot N machines (default 3) and write the inventory clusters/<name>/inventory.yaml')
    .argument('[count]', 'number of machines', '3')
    .option('--name <name>', 'lab and cluster name', 'lab')
    .action(async (n: string, options: { name: string }, cmd: Command) => {
      const started = performance.now();
      const result = await labUp(count(n), { home: home(cmd), name: options.name, say });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const rows = result.state.machines.map((m) => [
        m.name,
        m.address,
        m.roles.join(','),
        result.started.includes(m.name) ? 'started' : 'running',
      ]);
      writeOrigins(result.origins);
      process.stdout.write(`${formatTable(['MACHINE', 'ADDRESS', 'ROLES', 'STATE'], rows)}\n`);
      process.stdout.write(
        `${result.changed ? 'lab ready' : 'lab already up, nothing changed'} in ${seconds}s; inventory: ${result.inventoryFile}\nnext: kubesmith check ${options.name}\n`,
      );
    });

  lab
    .command('build')
    .description("build or download the lab's base filesystem and artifact bundles without booting machines")
    .action(async (_options: unknown, cmd: Command) => {
      const started = performance.now();
      const result = await labBuild({ home: home(cmd), say });
      writeOrigins(uniqueOrigins(result.bundles.flatMap((b) => b.origins)));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      for (const bundle of result.bundles)
        process.stdout.write(`Kubernetes ${bundle.kubernetesVersion}: ${bundle.dir}\n`);
      process.stdout.write(`lab artifacts ready in ${seconds}s\n`);
    });

  lab
    .command('down')
    .description('stop the machines, unmount, remove the bridge and the lab state')
    .option('--name <name>', 'lab name', 'lab')
    .action(async (options: { name: string }, cmd: Command) => {
      const { stopped } = await labDown({ home: home(cmd), name: options.name, say });
      process.stdout.write(`lab ${options.name} removed (${stopped.length} machine(s) stopped)\n`);
    });

  lab
    .command('status')
    .description('list the lab machines and whether they run')
    .option('--name <name>', 'lab name', 'lab')
    .action(async (options: { name: string }, cmd: Command) => {
      const machines = await labStatus({ home: home(cmd), name: options.name });
      if (!machines) {
        process.stdout.write(`no lab '${options.name}'; start one with: kubesmith lab up\n`);
        return;
      }
      const rows = machines.map((m) => [
        m.name,
        m.address,
        m.roles.join(','),
        m.running ? `running (pid ${m.pid})` : 'stopped',
      ]);
      process.stdout.write(`${formatTable(['MACHINE', 'ADDRESS', 'ROLES', 'STATE'], rows)}\n`);
    });
}
