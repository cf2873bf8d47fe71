import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveLocalPath } from '../home.js';
import type { Inventory } from '../inventory/schema.js';
import { readBundleManifest } from './bundle.js';
import { ArtifactError } from './download.js';
import { checkedSha } from './resolve.js';

/** A container image archive on the deploy machine, for import into containerd on the hosts. */
export interface LocalImage {
  name: string;
  localPath: string;
  sha256: string;
  configDigest: string;
}

/**
 * The image archives of the inventory's artifact source, each checked against its manifest
 * sha256. Only bundles carry images; with `artifacts.source: download` hosts pull them.
 */
export async function resolveImages(inventory: Inventory, inventoryFile: string): Promise<LocalImage[]> {
  if (inventory.artifacts.source !== 'dir') return [];
  const dir = resolveLocalPath(inventory.artifacts.dir ?? '.', inventoryFile);
  const manifest = await readBundleManifest(dir);
  const images: LocalImage[] = [];
  for (const image of manifest.images) {
    const localPath = join(dir, image.path);
    if (!existsSync(localPath))
      throw new ArtifactError(
        `${localPath} is listed in ${dir}/manifest.json but missing; rebuild the bundle`,
      );
    const sha = await checkedSha(localPath);
    if (sha !== image.sha256)
      throw new ArtifactError(
        `${localPath} is corrupt: sha256 ${sha}, manifest says ${image.sha256}; rebuild the bundle`,
      );
    images.push({ name: image.name, localPath, sha256: sha, configDigest: image.configDigest });
  }
  return images;
}
