import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { e2eTestEntry } from '../artifacts/catalog.js';
import { fetchEntry, resolveArtifactFiles } from '../artifacts/resolve.js';
import { InputError, OperationError } from '../errors.js';
import { cacheDir } from '../home.js';
import type { LoadedInventory } from '../inventory/load.js';

export interface SuiteBinaries {
  e2eTest: string;
  /** Some e2e tests run `kubectl exec`; the cluster's own version. */
  kubectl: string;
  /** Where e2e.test came from, for the report. */
  source: string;
}

/** Why e2e.test (a Linux binary) cannot run on this deploy machine, or undefined when it can. */
export function suiteRefusal(
  platform: string = process.platform,
  arch: string = process.arch,
): string | undefined {
  if (platform !== 'linux')
    return `conformance runs Kubernetes' e2e.test, a Linux binary, on the deploy machine, and this one runs ${platform}`;
  if (arch !== 'x64' && arch !== 'arm64') return `e2e.test is released for amd64 and arm64, not ${arch}`;
  return undefined;
}

/**
 * e2e.test and kubectl for the cluster's version: `--e2e-binary` when given; else the artifact
 * source's: a bundle (`artifacts.source: dir`; the lab's carries both, built from the Go
 * module) or the official release (kubectl from the catalog, e2e.test from
 * `kubernetes-test-linux-<arch>.tar.gz`, checksummed, in the download cache).
 */
export async function suiteBinaries(
  loaded: LoadedInventory,
  options: { e2eBinary?: string; signal?: AbortSignal; say?: (line: string) => void },
): Promise<SuiteBinaries> {
  const refusal = suiteRefusal();
  if (refusal) throw new OperationError(refusal);
  const { inventory, file } = loaded;
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const resolveOptions = { arch, cacheDir: cacheDir(), signal: options.signal, say: options.say } as const;
  const fromSource = options.e2eBinary === undefined && inventory.artifacts.source === 'dir';
  const files = await resolveArtifactFiles(
    inventory,
    file,
    fromSource ? ['bin/kubectl', 'bin/e2e.test'] : ['bin/kubectl'],
    resolveOptions,
  );
  const kubectl = files.get('bin/kubectl')!.localPath;
  if (options.e2eBinary !== undefined) {
    const path = resolve(options.e2eBinary);
    await access(path, constants.X_OK).catch((cause: unknown) => {
      throw new InputError(`--e2e-binary ${path} is not an executable file`, [], { cause });
    });
    return { e2eTest: path, kubectl, source: path };
  }
  if (fromSource)
    return { e2eTest: files.get('bin/e2e.test')!.localPath, kubectl, source: 'the artifact bundle' };
  const entry = e2eTestEntry(inventory.cluster.kubernetesVersion, arch);
  const [e2e] = await fetchEntry(entry, inventory.artifacts, resolveOptions);
  return { e2eTest: e2e!.localPath, kubectl, source: entry.url };
}
