import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { clusterPaths, kubesmithHome } from '../home.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { checkClusterName } from './context.js';

/** Scaffolds clusters/<name>/inventory.yaml from the example. */
export async function newCluster(cluster: string, home?: string): Promise<string> {
  checkClusterName(cluster);
  const paths = clusterPaths(kubesmithHome(home), cluster);
  if (existsSync(paths.inventory))
    throw new InputError(`${paths.inventory} already exists; edit it, or pick another name`);
  const example = await readFile(join(PACKAGE_ROOT, 'inventory.example.yaml'), 'utf8');
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeFile(paths.inventory, example.replace(/^( {2}name: ).*$/m, `$1${cluster}`), {
    mode: 0o600,
    flag: 'wx',
  });
  return paths.inventory;
}
