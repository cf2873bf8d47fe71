import { execa } from 'execa';
import { resolveArtifactFiles } from '../artifacts/resolve.js';
import { OperationError } from '../errors.js';
import { cacheDir } from '../home.js';
import type { Inventory } from '../inventory/schema.js';
import { offlineTool, type SnapshotStatus, snapshotStatusArgv, snapshotStatusSchema } from './ops.js';

/**
 * Why etcd's release binaries (Linux, amd64 or arm64) cannot run on this deploy machine, or
 * undefined when they can.
 */
export function localToolRefusal(
  platform: string = process.platform,
  arch: string = process.arch,
): string | undefined {
  if (platform !== 'linux')
    return `checking an etcd snapshot runs etcd's own Linux tool on the deploy machine, and this one runs ${platform}; run backup and restore from a Linux machine (a Linux VM or container with this kubesmith home will do)`;
  if (arch !== 'x64' && arch !== 'arm64')
    return `checking an etcd snapshot runs etcd's own tool on the deploy machine, which etcd releases only for amd64 and arm64, not ${arch}`;
  return undefined;
}

function deployArch(): 'amd64' | 'arm64' {
  return process.arch === 'arm64' ? 'arm64' : 'amd64';
}

/**
 * Reads a snapshot file on the deploy machine with etcd's own tool from the artifact
 * source (etcdutl for 3.5+, etcdctl for 3.4), so a truncated or damaged copy is caught here.
 */
export async function localSnapshotStatus(
  inventory: Inventory,
  inventoryFile: string,
  file: string,
): Promise<SnapshotStatus> {
  const refusal = localToolRefusal();
  if (refusal) throw new OperationError(refusal);
  const files = await resolveArtifactFiles(inventory, inventoryFile, ['bin/etcdctl'], {
    arch: deployArch(),
    cacheDir: cacheDir(),
    optional: ['bin/etcdutl'],
  });
  const version = files.get('bin/etcdctl')?.version ?? '3.5';
  const tool =
    offlineTool(version) === 'etcdutl' && files.has('bin/etcdutl')
      ? files.get('bin/etcdutl')!
      : files.get('bin/etcdctl')!;
  const [, ...args] = snapshotStatusArgv('tool', file);
  const result = await execa(tool.localPath, args, { reject: false, env: { ETCDCTL_API: '3' } });
  if (result.exitCode !== 0)
    throw new OperationError(`snapshot ${file} is damaged: ${result.stderr.trim().split('\n').pop()}`);
  return snapshotStatusSchema.parse(JSON.parse(result.stdout));
}
