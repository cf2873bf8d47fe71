import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { type ClusterPaths, clusterPaths, kubesmithHome } from '../home.js';
import { type LoadedInventory, loadInventory } from '../inventory/load.js';
import { name as nameSchema } from '../inventory/schema.js';
import { jsonRenderer } from '../render/json.js';
import { plainRenderer } from '../render/plain.js';
import type { OutputMode, Renderer } from '../render/renderer.js';
import { ttyRenderer } from '../render/tty.js';

export interface GlobalOptions {
  home?: string;
  inventory?: string;
  output?: OutputMode;
  allowEvenEtcd?: boolean;
  verbose?: boolean;
}

export interface Cluster {
  paths: ClusterPaths;
  loaded: LoadedInventory;
}

export function checkClusterName(cluster: string): void {
  const parsed = nameSchema.safeParse(cluster);
  if (!parsed.success)
    throw new InputError(`cluster name '${cluster}' ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
}

/** The cluster named on the command line, or the inventory given with -i; validated before anything else happens. */
export async function openCluster(cluster: string | undefined, options: GlobalOptions): Promise<Cluster> {
  const home = kubesmithHome(options.home);
  let file: string;
  if (options.inventory) file = resolve(options.inventory);
  else if (cluster) {
    checkClusterName(cluster);
    file = clusterPaths(home, cluster).inventory;
    if (!existsSync(file))
      throw new InputError(
        `no cluster '${cluster}': ${file} does not exist; create it with 'kubesmith new ${cluster}' or pass -i FILE`,
      );
  } else throw new InputError('name a cluster (kubesmith <command> CLUSTER) or pass -i FILE');
  const loaded = await loadInventory(file, { allowEvenEtcd: options.allowEvenEtcd });
  const name = loaded.inventory.cluster.name;
  if (cluster && !options.inventory && cluster !== name) {
    throw new InputError(
      `${file}: cluster.name is '${name}' but the folder is '${cluster}'; make them the same`,
    );
  }
  const paths = clusterPaths(home, name);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  return { paths, loaded };
}

export function pickRenderer(mode: OutputMode = 'auto', verbose = false): Renderer {
  if (mode === 'json') return jsonRenderer(process.stdout);
  // A terminal that reports no width (a fresh pty, a serial console) would get one character per line.
  const usableTerminal = process.stdout.isTTY && (process.stdout.columns ?? 0) > 0;
  if (mode === 'plain' || (mode === 'auto' && (!usableTerminal || process.env.CI)))
    return plainRenderer(process.stdout, { verbose });
  return ttyRenderer(process.stdout);
}
