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
      files: z.array(
        z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number() }),
      ),
    }),
  ),
  absent: z.array(z.object({ name: z.string(), reason: z.string() })),
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
