import { join } from 'node:path';
import { BuildError } from './go.js';
import { type ImageArchive, writeImageArchive } from './image.js';

export interface ImageRef {
  name: string;
  tag: string;
}

/** The tag test/utils/image/manifest.go gives an e2e image: `configs[Key] = Config{list.X, "repo", "tag"}`. */
export function manifestImageTag(manifestGo: string, key: string, repo: string): string {
  const match = new RegExp(`configs\\[${key}\\] = Config\\{list\\.\\w+, "${repo}", "([^"]+)"\\}`).exec(
    manifestGo,
  );
  if (!match)
    throw new BuildError('images', 'reading test/utils/image/manifest.go', `no ${key} image tag found`);
  return match[1]!;
}

/** The DNS conformance tests' second querier image, under the name and tag the suite asks for. */
export function jessieDnsutilsRef(manifestGo: string): ImageRef {
  return {
    name: 'registry.k8s.io/e2e-test-images/jessie-dnsutils',
    tag: manifestImageTag(manifestGo, 'JessieDnsutils', 'jessie-dnsutils'),
  };
}

/**
 * jessie-dnsutils: the DNS tests run `sh -c` scripts of dig, getent, test and echo in it, so
 * the Debian userland layer (bind9-dnsutils included) is the whole image.
 */
export function jessieDnsutilsImage(
  image: ImageRef,
  userland: { file: string; diffId: string },
  dir: string,
): Promise<ImageArchive> {
  return writeImageArchive(
    `${image.name}:${image.tag}`,
    [userland],
    { entrypoint: [], cmd: ['sh'] },
    join(dir, 'jessie-dnsutils.tar'),
  );
}
