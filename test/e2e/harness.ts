import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type Result } from 'execa';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
/** A fixed home so the lab's base filesystem is built once and reused across runs. */
export const E2E_HOME = process.env.KUBESMITH_E2E_HOME ?? '/var/tmp/kubesmith-e2e';

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
