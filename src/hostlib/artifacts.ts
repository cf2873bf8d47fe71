import type { Arch } from '../artifacts/catalog.js';

export { archOf } from '../artifacts/catalog.js';

import { type LocalImage, resolveImages } from '../artifacts/images.js';
import { type LocalArtifactFile, resolveArtifactFiles } from '../artifacts/resolve.js';
import type { Resource } from '../engine/resources.js';
import { once } from '../engine/shared.js';
import type { RunContext, StepContext } from '../engine/step.js';
import { cacheDir } from '../home.js';

/** The local files for these bundle paths, resolved once per run and architecture. */
export function artifactsFor(
  ctx: RunContext,
  arch: Arch,
  paths: readonly string[],
  optional: readonly string[] = [],
): Promise<Map<string, LocalArtifactFile>> {
  const key = `artifacts:${arch}:${[...paths, ...optional].join(',')}`;
  return once(ctx.shared, key, () =>
    resolveArtifactFiles(ctx.inventory, ctx.inventoryFile, paths, {
      arch,
      cacheDir: cacheDir(),
      signal: ctx.signal,
      optional,
      say: (line) => ctx.log(line),
    }),
  );
}

/** The artifact source's container images, checked once per run. */
export function imagesFor(ctx: RunContext): Promise<LocalImage[]> {
  return once(ctx.shared, 'images', () => resolveImages(ctx.inventory, ctx.inventoryFile));
}

/** Binaries into ssh binDir (uploaded only when the remote sha256 differs), linked where tools expect them. */
export function binaryResources(
  ctx: StepContext,
  files: Iterable<LocalArtifactFile>,
  linkDir = '/usr/local/bin',
): Resource[] {
  const binDir = ctx.inventory.artifacts.binDir;
  const resources: Resource[] = [{ kind: 'directory', path: binDir, mode: 0o755 }];
  for (const file of files) {
    const name = file.path.split('/').pop() ?? file.path;
    const target = `${binDir}/${name}`;
    resources.push({
      kind: 'file',
      path: target,
      content: { localPath: file.localPath, sha256: file.sha256 },
      mode: 0o755,
    });
    resources.push({ kind: 'symlink', path: `${linkDir}/${name}`, target });
  }
  return resources;
}
