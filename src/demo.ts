/**
 * `npm run demo`: the main job on the embedded default. Brings up a 3-machine lab, checks it,
 * runs `setup lab all` (a working cluster), re-runs it (nothing may change), verifies, takes
 * an etcd backup, shows the nodes through the deploy machine's admin kubeconfig, and sums up.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { readBundleManifest } from './artifacts/bundle.js';
import { loadPlaybook } from './engine/playbook.js';
import { kubesmithHome } from './home.js';
import { LAB_KUBERNETES_VERSION } from './lab/inventory.js';
import { bundleDir } from './lab/state.js';
import { PACKAGE_ROOT } from './package-root.js';
import { formatDuration, formatTable } from './render/table.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli.js');
const LAB = process.env.KUBESMITH_DEMO_LAB ?? 'lab';

interface Stage {
  name: string;
  command: string[];
  ok: boolean;
  durationMs: number;
}

async function stage(name: string, ...args: string[]): Promise<Stage> {
  process.stdout.write(`\n=== ${name}: kubesmith ${args.join(' ')}\n`);
  const started = performance.now();
  const result = await execa(process.execPath, [CLI, ...args], { stdio: 'inherit', reject: false });
  return {
    name,
    command: args,
    ok: result.exitCode === 0,
    durationMs: Math.round(performance.now() - started),
  };
}

/** The lab needs root: a user who is not root is asked for sudo once, and the demo runs again under it. */
async function asRoot(): Promise<number | undefined> {
  if (process.getuid?.() === 0) return undefined;
  const sudo = await execa('sh', ['-c', 'command -v sudo'], { reject: false });
  if (sudo.exitCode !== 0) {
    process.stderr.write('the demo boots lab machines with systemd-nspawn and needs root; run it as root\n');
    return 2;
  }
  process.stderr.write(
    'the demo boots lab machines with systemd-nspawn and needs root: running it with sudo\n',
  );
  const again = await execa(
    'sudo',
    ['--preserve-env=KUBESMITH_HOME,KUBESMITH_DEMO_LAB', process.execPath, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
      reject: false,
    },
  );
  return again.exitCode ?? 1;
}

async function main(): Promise<number> {
  const delegated = await asRoot();
  if (delegated !== undefined) return delegated;
  const stages: Stage[] = [];
  const run = async (name: string, ...args: string[]) => {
    const s = await stage(name, ...args);
    stages.push(s);
    return s.ok;
  };
  const ok =
    (await run('lab', 'lab', 'up', '3', '--name', LAB)) &&
    (await run('check', 'check', LAB)) &&
    (await run('setup', 'setup', LAB, 'all')) &&
    (await run('re-run (must change nothing)', 'setup', LAB, 'all')) &&
    (await run('verify', 'verify', LAB)) &&
    (await run('etcd backup', 'backup', LAB, '--note', 'demo'));

  const playbook = await loadPlaybook('setup');
  const manifest = await readBundleManifest(bundleDir(kubesmithHome(), LAB_KUBERNETES_VERSION)).catch(
    () => undefined,
  );
  process.stdout.write('\n=== summary\n');
  process.stdout.write(
    `${formatTable(
      ['STAGE', 'RESULT', 'TIME'],
      stages.map((s) => [s.name, s.ok ? 'ok' : 'FAILED', formatDuration(s.durationMs)]),
    )}\n\n`,
  );
  process.stdout.write(
    `setup steps installed and verified: ${playbook.steps.map((s) => `${s.alias ?? ''} ${s.step}`.trim()).join(', ')}\n`,
  );
  if (manifest) {
    process.stdout.write(
      `in the lab's artifact bundle: ${manifest.artifacts.map((a) => `${a.name} ${a.version} (${a.source ?? a.origin})`).join(', ')}\n`,
    );
    if (manifest.images.length)
      process.stdout.write(
        `images imported on every host: ${manifest.images.map((i) => i.name).join(', ')}\n`,
      );
    if (manifest.absent.length)
      process.stdout.write(
        `skipped, not in the bundle: ${manifest.absent.map((a) => a.name).join(', ')}\n  (${manifest.absent[0]?.reason})\n`,
      );
  }
  if (ok) {
    const kubeconfig = join(kubesmithHome(), 'clusters', LAB, 'kubeconfig');
    const kubectl = join(bundleDir(kubesmithHome(), LAB_KUBERNETES_VERSION), 'bin', 'kubectl');
    const nodes = await execa(
      kubectl,
      ['--kubeconfig', kubeconfig, 'get', 'nodes,pods', '-A', '-o', 'wide'],
      {
        reject: false,
        all: true,
      },
    );
    process.stdout.write(`\n$ kubectl --kubeconfig ${kubeconfig} get nodes,pods -A -o wide\n${nodes.all}\n`);
  }
  process.stdout.write(
    `\nthe lab stays up: kubesmith check ${LAB}; kubesmith lab status --name ${LAB}; remove it with: kubesmith lab down --name ${LAB}\n`,
  );
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
