import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** Where kubesmith keeps clusters: --home, else $KUBESMITH_HOME, else ~/.kubesmith. */
export function kubesmithHome(explicit?: string): string {
  return resolve(explicit ?? process.env.KUBESMITH_HOME ?? join(homedir(), '.kubesmith'));
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** A user-given local path: ~ expanded, relative paths taken from the inventory's folder. */
export function resolveLocalPath(path: string, inventoryFile: string): string {
  const expanded = expandHome(path);
  return isAbsolute(expanded) ? expanded : resolve(dirname(inventoryFile), expanded);
}

export interface ClusterPaths {
  dir: string;
  inventory: string;
  pki: string;
  knownHosts: string;
  backups: string;
  runs: string;
  lock: string;
}

export function clusterPaths(home: string, cluster: string): ClusterPaths {
  const dir = join(home, 'clusters', cluster);
  return {
    dir,
    inventory: join(dir, 'inventory.yaml'),
    pki: join(dir, 'pki'),
    knownHosts: join(dir, 'known_hosts'),
    backups: join(dir, 'backups'),
    runs: join(dir, 'runs'),
    lock: join(dir, '.lock'),
  };
}

/** The download cache: $KUBESMITH_CACHE, else $XDG_CACHE_HOME/kubesmith, else ~/.cache/kubesmith. */
export function cacheDir(): string {
  return resolve(
    process.env.KUBESMITH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubesmith'),
  );
}
