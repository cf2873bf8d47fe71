import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { withCacheLock } from '../artifacts/cache-lock.js';
import { checkClusterName } from '../commands/context.js';
import { mapLimit } from '../engine/limit.js';
import { acquireLock } from '../engine/lock.js';
import { clusterPaths } from '../home.js';
import { ensureBase } from './base.js';
import { attachVeth, ensureBridge, removeBridge, takenLabSubnets } from './bridge.js';
import { LAB_KUBERNETES_VERSIONS } from './build/recipes.js';
import { ensureKubeletSysctls } from './host-sysctls.js';
import { ensureLabTools } from './host-tools.js';
import { LAB_KUBERNETES_VERSION, writeLabCluster } from './inventory.js';
import { ensureLabBundle, type LabBundle, uniqueOrigins } from './lab-bundle.js';
import {
  boot,
  halt,
  hostKeyLine,
  machineDirs,
  mountRoot,
  personalize,
  removeMachineCgroups,
  unmountRoot,
  waitForSsh,
} from './machines.js';
import {
  baseDir,
  isOurNspawn,
  LAB_SUBNET_PREFIX,
  type LabMachine,
  type LabState,
  labNetwork,
  labPaths,
  machineAddress,
  readState,
  thirdOctet,
  writeState,
} from './state.js';

export interface LabOptions {
  home: string;
  name: string;
  say: (line: string) => void;
}

export interface LabUpResult {
  state: LabState;
  started: string[];
  inventoryFile: string;
  baseBuilt: boolean;
  /** Where each bundle component came from, when the bundle was assembled in this call. */
  origins: LabBundle['origins'];
  changed: boolean;
}

const MAX_MACHINES = 60;

function rolesFor(index: number, count: number): LabMachine['roles'] {
  const masters = count >= 3 ? 3 : 1;
  return index < masters ? ['etcd', 'master'] : ['node'];
}

async function ensureKey(keyFile: string): Promise<string> {
  if (!existsSync(keyFile))
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kubesmith-lab', '-f', keyFile]);
  return readFile(`${keyFile}.pub`, 'utf8');
}

export interface LabArtifacts {
  rootfs: string;
  baseBuilt: boolean;
  /** The bundle of the lab's Kubernetes version (the others are built for upgrades). */
  bundle: LabBundle;
  bundles: LabBundle[];
}

/**
 * The lab's base filesystem and its artifact bundles, built once and cached; one process at
 * a time builds (another waits, then reuses the result).
 */
export async function ensureLabArtifacts(home: string, say: (line: string) => void): Promise<LabArtifacts> {
  const cache = join(home, 'cache');
  await mkdir(cache, { recursive: true });
  return withCacheLock(
    cache,
    'lab artifacts',
    async () => {
      const base = await ensureBase(baseDir(home), say);
      const bundles: LabBundle[] = [];
      for (const version of LAB_KUBERNETES_VERSIONS) bundles.push(await ensureLabBundle(cache, version, say));
      const bundle = bundles.find((b) => b.kubernetesVersion === LAB_KUBERNETES_VERSION) ?? bundles[0]!;
      return { rootfs: base.rootfs, baseBuilt: base.built, bundle, bundles };
    },
    { waitMs: 60 * 60_000, say },
  );
}

/** Builds what the lab needs without booting machines (`kubesmith lab build`). */
export async function labBuild(options: Pick<LabOptions, 'home' | 'say'>): Promise<LabArtifacts> {
  await ensureLabTools(options.say);
  return ensureLabArtifacts(options.home, options.say);
}

/** Brings the lab to `count` running machines; a second call with the same count changes nothing. */
export async function labUp(count: number, options: LabOptions): Promise<LabUpResult> {
  checkClusterName(options.name);
  if (!Number.isInteger(count) || count < 1 || count > MAX_MACHINES)
    throw new Error(`machine count must be 1..${MAX_MACHINES}`);
  await ensureLabTools(options.say);
  const paths = labPaths(options.home, options.name);
  const lock = await acquireLock(paths.lock, `lab up ${count}`);
  try {
    const { rootfs, baseBuilt, bundle, bundles } = await ensureLabArtifacts(options.home, options.say);
    const previous = await readState(paths);
    const net = labNetwork(
      options.name,
      previous ? new Set() : await takenLabSubnets(LAB_SUBNET_PREFIX, labNetwork(options.name).bridge),
    );
    const state: LabState = previous ?? {
      name: options.name,
      bridge: net.bridge,
      gateway: net.gateway,
      subnet: net.subnet,
      machines: [],
    };
    const initial = state.machines.length === 0;
    for (let i = state.machines.length; i < count; i++) {
      state.machines.push({
        name: `${options.name}-${i + 1}`,
        address: machineAddress(thirdOctet(state.subnet), i),
        pid: null,
        roles: initial ? rolesFor(i, count) : ['node'],
      });
    }
    const authorizedKey = await ensureKey(paths.key);
    await ensureBridge(state.bridge, state.gateway);
    await ensureKubeletSysctls(options.say);
    const started: string[] = [];
    await mapLimit(state.machines, 8, async (machine) => {
      const dirs = machineDirs(paths.machines, machine.name);
      if (isOurNspawn(machine.pid, dirs.root)) return attachVeth(state.bridge, machine.name);
      // Stale state from a killed run or a reboot: no live nspawn, maybe an orphaned init or a mount left behind.
      await halt(machine.pid, dirs.root);
      await unmountRoot(dirs);
      await mountRoot(rootfs, dirs);
      await personalize(dirs, machine, 24, authorizedKey);
      machine.pid = boot(dirs, machine, state.bridge);
      started.push(machine.name);
    });
    await writeState(paths, state);
    const unreachable: string[] = [];
    await Promise.all(
      state.machines.map(async (m) => {
        if (!(await waitForSsh(m.address, 90_000)))
          unreachable.push(
            `${m.name} (${m.address}); console: ${machineDirs(paths.machines, m.name).console}`,
          );
      }),
    );
    if (unreachable.length)
      throw new Error(`lab machines did not answer SSH within 90 s: ${unreachable.join(', ')}`);
    const hostKeys = await Promise.all(
      state.machines.map((m) => hostKeyLine(machineDirs(paths.machines, m.name), m.address)),
    );
    const cluster = clusterPaths(options.home, options.name);
    const changed = await writeLabCluster(
      cluster,
      state,
      { keyFile: paths.key, bundleDir: bundle.dir, grow: previous !== undefined },
      hostKeys,
    );
    return {
      state,
      started,
      inventoryFile: cluster.inventory,
      baseBuilt,
      origins: uniqueOrigins(bundles.flatMap((b) => b.origins)),
      changed: changed || started.length > 0 || baseBuilt || bundles.some((b) => b.built),
    };
  } finally {
    await lock.release();
  }
}

/** Stops every machine by its recorded pid, unmounts, removes the bridge and the lab's state. Recovers from stale state. */
export async function labDown(options: LabOptions): Promise<{ stopped: string[] }> {
  checkClusterName(options.name);
  await ensureLabTools(options.say);
  const paths = labPaths(options.home, options.name);
  const lock = await acquireLock(paths.lock, 'lab down');
  const stopped: string[] = [];
  try {
    const state = await readState(paths);
    const net = labNetwork(options.name);
    const machines = state?.machines ?? [];
    await Promise.all(
      machines.map(async (m) => {
        const dirs = machineDirs(paths.machines, m.name);
        if (isOurNspawn(m.pid, dirs.root)) stopped.push(m.name);
        await halt(m.pid, dirs.root);
        await unmountRoot(dirs);
        await removeMachineCgroups(m.name);
      }),
    );
    await removeBridge(state?.bridge ?? net.bridge);
    const cluster = clusterPaths(options.home, options.name);
    await rm(cluster.inventory, { force: true });
    await rm(cluster.knownHosts, { force: true });
    await rm(paths.machines, { recursive: true, force: true });
    await rm(paths.state, { force: true });
    await rm(paths.key, { force: true });
    await rm(`${paths.key}.pub`, { force: true });
  } finally {
    await lock.release();
  }
  return { stopped };
}

export interface MachineStatus {
  name: string;
  address: string;
  roles: string[];
  running: boolean;
  pid: number | null;
}

export async function labStatus(
  options: Pick<LabOptions, 'home' | 'name'>,
): Promise<MachineStatus[] | undefined> {
  const paths = labPaths(options.home, options.name);
  const state = await readState(paths);
  if (!state) return undefined;
  return state.machines.map((m) => ({
    name: m.name,
    address: m.address,
    roles: m.roles,
    pid: m.pid,
    running: isOurNspawn(m.pid, machineDirs(paths.machines, m.name).root),
  }));
}
