import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { sha256File } from '../../artifacts/bundle.js';

/**
 * Container images written as docker-archive tarballs (what `docker save` writes and
 * `ctr images import` reads), assembled from directories without a registry or a daemon.
 * Layers are reproducible: owner 0, mtime 0, sorted names.
 */

export interface ImageConfig {
  entrypoint: string[];
  cmd?: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
}

export interface ImageArchive {
  /** Full reference, e.g. registry.k8s.io/pause:3.10.1. */
  name: string;
  file: string;
  /** sha256 of the image config: the image id crictl shows. */
  configDigest: string;
  sha256: string;
  size: number;
}

/** A reproducible tar of a directory's contents (an image layer). */
export async function layerFromDirectory(
  dir: string,
  out: string,
): Promise<{ file: string; diffId: string }> {
  await execa('tar', [
    '--create',
    '--file',
    out,
    '--directory',
    dir,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '--sort=name',
    '.',
  ]);
  return { file: out, diffId: `sha256:${await sha256File(out)}` };
}

export function imageConfigJson(config: ImageConfig, diffIds: string[], arch = 'amd64'): string {
  return JSON.stringify({
    architecture: arch,
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      Entrypoint: config.entrypoint,
      ...(config.cmd ? { Cmd: config.cmd } : {}),
      ...(config.user ? { User: config.user } : {}),
      Env: config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
}

/** Writes a docker-archive of the given layer tars (bottom first) with one config and one tag. */
export async function writeImageArchive(
  name: string,
  layers: { file: string; diffId: string }[],
  config: ImageConfig,
  out: string,
): Promise<ImageArchive> {
  const configJson = imageConfigJson(
    config,
    layers.map((l) => l.diffId),
  );
  return writeDockerArchive(
    name,
    Buffer.from(configJson),
    layers.map((l) => ({ file: l.file, id: l.diffId.slice('sha256:'.length) })),
    out,
  );
}

/**
 * Writes a docker-archive of a given image config (kept byte for byte, so its digest is the
 * image id) and layer files (bottom first), each stored as `<id>/layer.tar`. Layers may be
 * tars or compressed tars: `ctr images import` detects the compression of each.
 */
export async function writeDockerArchive(
  name: string,
  configJson: Buffer,
  layers: { file: string; id: string }[],
  out: string,
): Promise<ImageArchive> {
  const staging = await mkdtemp(`${out}.parts-`);
  try {
    const configHex = createHash('sha256').update(configJson).digest('hex');
    await writeFile(join(staging, `${configHex}.json`), configJson);
    const layerPaths: string[] = [];
    for (const layer of layers) {
      await mkdir(join(staging, layer.id), { recursive: true });
      const target = join(staging, layer.id, 'layer.tar');
      await link(layer.file, target).catch(async (error: NodeJS.ErrnoException) => {
        // Another file system (a cache elsewhere): copied instead.
        if (error.code === 'EXDEV') return copyFile(layer.file, target);
        if (error.code !== 'EEXIST') throw error;
      });
      layerPaths.push(`${layer.id}/layer.tar`);
    }
    await writeFile(
      join(staging, 'manifest.json'),
      JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [name], Layers: layerPaths }]),
    );
    const entries = [
      'manifest.json',
      `${configHex}.json`,
      ...new Set(layerPaths.map((p) => p.split('/')[0]!)),
    ];
    await execa('tar', [
      '--create',
      '--file',
      `${out}.tmp`,
      '--directory',
      staging,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mtime=@0',
      ...entries,
    ]);
    await rename(`${out}.tmp`, out);
    return {
      name,
      file: out,
      configDigest: `sha256:${configHex}`,
      sha256: await sha256File(out),
      size: (await stat(out)).size,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
