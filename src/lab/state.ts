import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const LAB_SUBNET_PREFIX = '10.77';

export interface LabPaths {
  dir: string;
  state: string;
  key: string;
  machines: string;
  lock: string;
}

export function labPaths(home: string, name: string): LabPaths {
  const dir = join(home, 'labs', name);
  return {
    dir,
    state: join(dir, 'state.json'),
    key: join(dir, 'id_ed25519'),
    machines: join(dir, 'machines'),
    lock: join(dir, '.lock'),
  };
}

export function baseDir(home: string): string {
  return join(home, 'cache', 'lab-base-bookworm');
}

/** The lab's artifact bundle for a Kubernetes version (see lab-bundle.ts). */
export function bundleDir(home: string, kubernetesVersion: string): string {
  return join(home, 'cache', 'lab-bundle', `kubernetes-${kubernetesVersion}`);
}

const machineSchema = z.object({
  name: z.string(),
  address: z.string(),
  pid: z.number().nullable(),
  roles: z.array(z.enum(['etcd', 'master', 'node'])),
});
const stateSchema = z.object({
  name: z.string(),
  bridge: z.string(),
  gateway: z.string(),
  subnet: z.string(),
  machines: z.array(machineSchema),
});

export type LabMachine = z.output<typeof machineSchema>;
export type LabState = z.output<typeof stateSchema>;

export async function readState(paths: LabPaths): Promise<LabState | undefined> {
  try {
    return stateSchema.parse(JSON.parse(await readFile(paths.state, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(
      `${paths.state} is damaged (${(error as Error).message}); run 'kubesmith lab down' to clean up`,
      { cause: error },
    );
  }
}

export async function writeState(paths: LabPaths, state: LabState): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const tmp = `${paths.state}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, paths.state);
}

/**
 * A lab's bridge and subnet: one /24 per lab under 10.77, picked from its name and moved
 * past any /24 already on an interface of this machine, so two labs never share one.
 */
export function labNetwork(
  name: string,
  taken: ReadonlySet<number> = new Set(),
): { bridge: string; subnet: string; gateway: string; third: number } {
  let third = name === 'lab' ? 0 : [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 200, 7) + 20;
  while (taken.has(third)) third = (third + 1) % 250;
  return {
    bridge: `ks-${name}`.slice(0, 15),
    subnet: `${LAB_SUBNET_PREFIX}.${third}.0/24`,
    gateway: `${LAB_SUBNET_PREFIX}.${third}.1`,
    third,
  };
}

export function thirdOctet(subnet: string): number {
  return Number(subnet.split('.')[2]);
}

export function machineAddress(third: number, index: number): string {
  return `${LAB_SUBNET_PREFIX}.${third}.${11 + index}`;
}

/** True when pid is a live systemd-nspawn for this root (not a recycled pid). */
export function isOurNspawn(pid: number | null, root: string): boolean {
  if (!pid) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((a) => a.endsWith('systemd-nspawn')) && cmdline.includes(root);
  } catch {
    return false;
  }
}
