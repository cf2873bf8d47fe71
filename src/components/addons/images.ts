import { DEFAULT_IMAGE_REGISTRY } from '../../artifacts/image-catalog.js';

const K8S_REGISTRY_PREFIX = `${DEFAULT_IMAGE_REGISTRY}/`;

/**
 * A registry.k8s.io image through cluster.imageRegistry, named the way image-catalog.ts names
 * CoreDNS: unchanged on the default registry; elsewhere flat, its last path element under the
 * configured registry, as mirrors of registry.k8s.io hold them (registry.k8s.io/metrics-server/
 * metrics-server:v0.8.0 through registry.aliyuncs.com/google_containers becomes
 * registry.aliyuncs.com/google_containers/metrics-server:v0.8.0).
 */
export function k8sRegistryImage(reference: string, imageRegistry: string): string {
  if (!reference.startsWith(K8S_REGISTRY_PREFIX))
    throw new Error(`image ${reference} is not on ${DEFAULT_IMAGE_REGISTRY}`);
  if (imageRegistry === DEFAULT_IMAGE_REGISTRY) return reference;
  return `${imageRegistry}/${reference.slice(reference.lastIndexOf('/') + 1)}`;
}
