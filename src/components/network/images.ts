import { workloadContainers } from './manifest.js';
import type { NetworkObject } from './types.js';

/**
 * An upstream image through a mirror: the registry host is replaced by `mirror` (a host with an
 * optional path) and the repository and tag are kept, so ghcr.io/flannel-io/flannel:v0.28.9 through
 * harbor.local/ghcr becomes harbor.local/ghcr/flannel-io/flannel:v0.28.9. Without a mirror the
 * upstream name stays: containerd then pulls it through cluster.registryMirrors when those list its
 * registry (cluster.imageRegistry is for registry.k8s.io's images only).
 */
export function mirroredImage(reference: string, mirror: string | undefined): string {
  const slash = reference.indexOf('/');
  if (slash < 0 || !reference.slice(0, slash).includes('.'))
    throw new Error(`image ${reference} does not name its registry`);
  return mirror ? `${mirror}${reference.slice(slash)}` : reference;
}

/**
 * Every container of the objects' workloads pulls through `mirror` and only when the image is not
 * on the host yet (IfNotPresent), so images imported beforehand (the lab's, an air-gapped site's) serve.
 */
export function useImages(objects: NetworkObject[], mirror: string | undefined): void {
  for (const container of workloadContainers(objects)) {
    container.image = mirroredImage(container.image, mirror);
    container.imagePullPolicy = 'IfNotPresent';
  }
}
