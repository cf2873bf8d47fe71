import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    .filter((m) => m.startsWith(dir));
}

export async function linkExists(name: string): Promise<boolean> {
  return (await execa('ip', ['link', 'show', 'dev', name], { reject: false })).exitCode === 0;
}

export async function nspawnProcessesFor(dir: string): Promise<number[]> {
  const result = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return result.stdout
    .split('\n')
    .filter((l) => l.includes('systemd-nspawn') && l.includes(dir))
    .map((l) => Number.parseInt(l.trim(), 10));
}

/** A lab's machines as an operator reaches them: the system ssh client, the lab key, pinned host keys. */
export function labShell(lab: string) {
  const key = join(E2E_HOME, 'labs', lab, 'id_ed25519');
  const knownHosts = join(E2E_HOME, 'clusters', lab, 'known_hosts');
  let addresses: string[] = [];
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
      await execa('scp', [
        '-q',
        '-i',
        key,
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        local,
        `root@${addresses[index]}:${remote}`,
      ]);
    },
    async run(index: number, command: string): Promise<string> {
      const args = [
        '-i',
        key,
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
      ];
      return (await execa('ssh', [...args, `root@${addresses[index]}`, command])).stdout;
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
