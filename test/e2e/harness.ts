import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { LAB_KUBERNETES_VERSION } from '../../src/lab/inventory.js';
import { bundleDir } from '../../src/lab/state.js';
import { EtcdHttp } from './etcd-http.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
/** A fixed home so the lab's base filesystem is built once and reused across runs. */
export const E2E_HOME = process.env.KUBESMITH_E2E_HOME ?? '/var/tmp/kubesmith-e2e';
/** The artifact bundle `lab up` builds for the lab's Kubernetes version. */
export const LAB_BUNDLE = bundleDir(E2E_HOME, LAB_KUBERNETES_VERSION);

/** Why the lab e2e cannot run here, or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the lab needs root)';
  if (!existsSync('/usr/bin/systemd-nspawn')) return 'no systemd-nspawn (apt-get install systemd-container)';
  if (!existsSync(CLI)) return 'dist/cli.js missing (npm run build)';
  return undefined;
}

/** Runs the built CLI as a user would. */
export function kubesmith(...args: string[]): Promise<Result<{ reject: false; all: true }>> {
  return execa('node', [CLI, ...args], {
    reject: false,
    all: true,
    env: { KUBESMITH_HOME: E2E_HOME, CI: 'true' },
  });
}

export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

export async function linkExists(name: string): Promise<boolean> {
  return (await execa('ip', ['link', 'show', 'dev', name], { reject: false })).exitCode === 0;
}

export async function nspawnProcessesFor(dir: string): Promise<number[]> {
  const result = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return result.stdout
    .split('\n')
    .filter((l) => l.includes('systemd-nspawn') && l.includes(`${dir}/`))
    .map((l) => Number.parseInt(l.trim(), 10));
}

/** A lab's machines as an operator reaches them: the system ssh client, the lab key, pinned host keys. */
export function labShell(lab: string) {
  const key = join(E2E_HOME, 'labs', lab, 'id_ed25519');
  const knownHosts = join(E2E_HOME, 'clusters', lab, 'known_hosts');
  let addresses: string[] = [];
  const sshOptions = [
    '-i',
    key,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
  ];
  return {
    clusterDir: join(E2E_HOME, 'clusters', lab),
    /** Reads the machine addresses from `lab up` output. */
    learn(labUpStdout: string) {
      addresses = [...labUpStdout.matchAll(/^\S+ +(\d+\.\d+\.\d+\.\d+) /gm)].map((m) => m[1]!);
      return addresses;
    },
    get addresses() {
      return addresses;
    },
    /** Copies a local file to a path on the machine (scp with the same key and pinned host key). */
    async copy(index: number, local: string, remote: string): Promise<void> {
      await execa('scp', ['-q', ...sshOptions, local, `root@${addresses[index]}:${remote}`]);
    },
    async run(index: number, command: string): Promise<string> {
      return (await execa('ssh', [...sshOptions, `root@${addresses[index]}`, command])).stdout;
    },
  };
}

/**
 * A fresh lab of `count` machines with etcd set up (step 02) and a JSON-gateway client on
 * member 1, for the etcd day-2 scenarios; `edit` may change the inventory before setup.
 */
export async function etcdLab(
  lab: string,
  count: number,
  shell: ReturnType<typeof labShell>,
  edit?: (inventory: string) => string,
) {
  await kubesmith('lab', 'down', '--name', lab);
  // Backups outlive a lab on purpose; these scenarios start their cluster from nothing.
  rmSync(shell.clusterDir, { recursive: true, force: true });
  const up = await kubesmith('lab', 'up', String(count), '--name', lab);
  if (up.exitCode !== 0) throw new Error(`lab up failed:\n${up.all}`);
  shell.learn(up.stdout);
  if (edit) {
    const file = join(shell.clusterDir, 'inventory.yaml');
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
  }
  const setup = await kubesmith('setup', lab, '02');
  if (setup.exitCode !== 0) throw new Error(`setup 02 failed:\n${setup.all}`);
  return new EtcdHttp(join(shell.clusterDir, 'pki'), `https://${shell.addresses[0]}:2379`);
}

/** A lab machine's root filesystem as the deploy machine sees it (index 0 = `<lab>-1`). */
export function labMachineRoot(lab: string, index: number): string {
  return join(E2E_HOME, 'labs', lab, 'machines', `${lab}-${index + 1}`, 'root');
}

/** Processes running inside the lab machine whose root is `root` (found through /proc/PID/root). */
function machineProcesses(root: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/root/etc/kubesmith-lab-machine`, 'utf8').trim() !== root) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(entry), cmdline });
    } catch {
      // gone meanwhile, or not a lab machine's
    }
  }
  return found;
}

/**
 * Cuts every SSH session of a lab machine at once, as a crashed sshd would: its session
 * processes (`sshd: user@notty`, `sshd: user [priv]`) are SIGKILLed by pid; the listener
 * stays, so the next run can connect. Returns how many were killed.
 */
export function cutSshSessions(root: string): number {
  const sessions = machineProcesses(root).filter((p) => /^sshd: \S+(@| \[priv\])/.test(p.cmdline));
  for (const { pid } of sessions) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return sessions.length;
}

/** What a cut-off install may leave on a machine: staged copies (`.<name>.kubesmith-*`) and record temp files. */
export async function stagedLeftovers(root: string): Promise<string[]> {
  const found = await execa(
    'find',
    [root, '-xdev', '(', '-name', '.*.kubesmith-*', '-o', '-name', 'checksums.tmp.*', ')', '-print'],
    { reject: false },
  );
  return found.stdout
    .split('\n')
    .filter(Boolean)
    .map((p) => p.slice(root.length));
}

/** Restarts owed on a machine (engine/pending.ts markers). */
export function pendingRestarts(root: string): string[] {
  const dir = join(root, 'var', 'lib', 'kubesmith', 'pending-restarts');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 5,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The built CLI as a child process the test can signal (kubesmith() with the subprocess kept). */
export function kubesmithProcess(...args: string[]) {
  return execa('node', [CLI, ...args], {
    reject: false,
    all: true,
    env: { KUBESMITH_HOME: E2E_HOME, CI: 'true' },
  });
}

/** Runs a command inside a lab machine through its init's namespaces (works with its sshd stopped). */
export async function inMachine(root: string, argv: string[]): Promise<string> {
  const init = machineProcesses(root).find((p) => {
    try {
      return /^NSpid:.*\s1$/m.test(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  });
  if (!init) throw new Error(`no running init in ${root}`);
  return (await execa('nsenter', ['-t', String(init.pid), '-a', ...argv])).stdout;
}
