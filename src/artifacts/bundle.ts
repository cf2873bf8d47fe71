import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * An offline artifact bundle: the directory `artifacts.source: dir` reads.
 *   manifest.json   what is inside, with versions and sha256 of every file
 *   bin/            executables (etcd, etcdctl, containerd, runc, ...)
 *   cni/bin/        CNI plugins
 *   images/         container image archives (docker-archive), imported by step 03
 */
export const bundleManifestSchema = z.object({
  format: z.literal(1),
  createdAt: z.string(),
  source: z.string(),
  artifacts: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      origin: z.string(),
      /** Where the files came from: the official release, a local build from the Go module, a Debian package. */
      source: z.enum(['download', 'built', 'debian']).optional(),
      goVersion: z.string().optional(),
      files: z.array(
        z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number() }),
      ),
    }),
  ),
  absent: z.array(z.object({ name: z.string(), reason: z.string() })),
  images: z
    .array(
      z.object({
        /** Full reference, e.g. registry.k8s.io/pause:3.10.1. */
        name: z.string(),
        path: z.string(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        size: z.number(),
        /** The image id (config digest) containerd reports after import. */
        configDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
        source: z.enum(['download', 'built']),
      }),
    )
    .default([]),
});
export type BundleManifest = z.output<typeof bundleManifestSchema>;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readBundleManifest(dir: string): Promise<BundleManifest> {
  return bundleManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
}
