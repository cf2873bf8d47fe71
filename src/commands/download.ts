import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import type { BundleManifest } from '../artifacts/bundle.js';
import { bundleImageSources } from '../artifacts/bundle-images.js';
import { type Arch, catalogFor } from '../artifacts/catalog.js';
import { type PulledImage, pullImage, writePulledImage } from '../artifacts/registry.js';
import { fetchEntry, type LocalArtifactFile, resolveArtifactFiles } from '../artifacts/resolve.js';
import { InputError } from '../errors.js';
import { cacheDir } from '../home.js';
import type { Cluster } from './context.js';

export interface DownloadOptions {
  arches: Arch[];
  bundle?: string;
  signal?: AbortSignal;
  say: (line: string) => void;
}

/** images/<last path segment>-<tag>.tar: unique among the catalog's images, a plain file name on the hosts. */
export function imageArchivePath(reference: string): string {
  const [path = reference, tag = 'latest'] = reference.split(/:(?=[^:/]+$)/);
  return `images/${path.split('/').pop()}-${tag}.tar`;
}

/** Writes a bundle directory (or a .tar of one) that `artifacts.source: dir` can read on an air-gapped site. */
async function writeBundle(
  out: string,
  files: LocalArtifactFile[],
  images: PulledImage[],
  kubernetesVersion: string,
): Promise<string> {
  const tarball = out.endsWith('.tar');
  const dir = tarball ? `${out}.d` : out;
  const staging = `${dir}.building`;
  await rm(staging, { recursive: true, force: true });
  try {
    await fillBundle(staging, files, images, kubernetesVersion);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  if (!tarball) return dir;
  await execa('tar', ['-cf', out, '-C', dir, '.']);
  await rm(dir, { recursive: true, force: true });
  return out;
}

async function fillBundle(
  staging: string,
  files: LocalArtifactFile[],
  images: PulledImage[],
  kubernetesVersion: string,
): Promise<void> {
  const byArtifact = new Map<string, LocalArtifactFile[]>();
  const sizes = new Map<string, number>();
  for (const file of files) {
    await mkdir(dirname(join(staging, file.path)), { recursive: true });
    await copyFile(file.localPath, join(staging, file.path));
    sizes.set(file.path, (await stat(file.localPath)).size);
    byArtifact.set(file.artifact, [...(byArtifact.get(file.artifact) ?? []), file]);
  }
  const manifest: BundleManifest = {
    format: 1,
    createdAt: new Date().toISOString(),
    source: `kubesmith download for Kubernetes ${kubernetesVersion}`,
    artifacts: [...byArtifact].map(([name, list]) => ({
      name,
      version: list[0]?.version ?? '',
      origin: 'catalog',
      files: list.map((f) => ({ path: f.path, sha256: f.sha256, size: sizes.get(f.path) ?? 0 })),
    })),
    absent: [],
    images: [],
  };
  await mkdir(join(staging, 'images'), { recursive: true });
  for (const image of images) {
    const path = imageArchivePath(image.reference);
    const archive = await writePulledImage(image, join(staging, path));
    manifest.images.push({
      name: image.reference,
      path,
      sha256: archive.sha256,
      size: archive.size,
      configDigest: archive.configDigest,
      source: 'download',
    });
  }
  await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Fills the download cache with every artifact of the cluster's version, verified; optionally writes a bundle. */
export async function download(
  cluster: Cluster,
  options: DownloadOptions,
): Promise<{ files: number; images?: number; bundle?: string }> {
  const { inventory, file } = cluster.loaded;
  if (inventory.artifacts.source === 'dir') {
    const everything = catalogFor(inventory.cluster.kubernetesVersion, 'amd64').flatMap((e) =>
      Object.values(e.files),
    );
    const found = await resolveArtifactFiles(inventory, file, [], {
      arch: 'amd64',
      cacheDir: cacheDir(),
      optional: everything,
    });
    options.say(
      `artifacts come from the bundle ${inventory.artifacts.dir}: ${found.size} files checked against its manifest, nothing to download`,
    );
    return { files: found.size };
  }
  if (options.bundle && options.arches.length !== 1)
    throw new InputError('--bundle holds one architecture; pass a single --arch');
  const files: LocalArtifactFile[] = [];
  for (const arch of options.arches) {
    for (const entry of catalogFor(inventory.cluster.kubernetesVersion, arch)) {
      files.push(
        ...(await fetchEntry(entry, inventory.artifacts, {
          arch,
          cacheDir: cacheDir(),
          signal: options.signal,
          say: options.say,
        })),
      );
    }
  }
  options.say(`${files.length} files verified in ${cacheDir()}`);
  if (!options.bundle) return { files: files.length };
  const [arch = 'amd64'] = options.arches;
  const images: PulledImage[] = [];
  for (const image of bundleImageSources(inventory)) {
    options.say(`saving image ${image.reference} (linux/${arch})`);
    images.push(
      await pullImage(image, { arch, cacheDir: cacheDir(), signal: options.signal, say: options.say }),
    );
  }
  const bundle = await writeBundle(
    resolve(options.bundle),
    files,
    images,
    inventory.cluster.kubernetesVersion,
  );
  return { files: files.length, images: images.length, bundle };
}
