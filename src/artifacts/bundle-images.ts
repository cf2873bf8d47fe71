import { metricsServerImages } from '../components/addons/metrics-server.js';
import { nodeLocalDnsImages } from '../components/addons/nodelocaldns.js';
import type { Inventory } from '../inventory/schema.js';
import { smokeImage } from '../verify/smoke-objects.js';
import { imageCatalogFor } from './image-catalog.js';
import type { ImageSource } from './registry.js';

/** `host[:port]/path/name:tag` as registry, repository and tag (a reference with its registry named). */
export function imageSource(reference: string): ImageSource {
  const slash = reference.indexOf('/');
  const colon = reference.lastIndexOf(':');
  if (slash < 0 || colon < slash) throw new Error(`image ${reference} names no registry or no tag`);
  return {
    reference,
    registry: reference.slice(0, slash),
    repository: reference.slice(slash + 1, colon),
    tag: reference.slice(colon + 1),
  };
}

/**
 * The images an offline bundle carries: the version's catalog (pause, CoreDNS), then the
 * enabled addons whose images come through cluster.imageRegistry (metrics-server, NodeLocal
 * DNSCache), and agnhost for verify's smoke. The network plugin's and the dashboard's images live on other registries
 * (docker.io, ghcr.io, quay.io) and are not bundled yet.
 */
export function bundleImageSources(inv: Inventory): ImageSource[] {
  const catalog: ImageSource[] = imageCatalogFor(inv.cluster.kubernetesVersion, inv.cluster.imageRegistry);
  const addons = [
    ...(inv.addons.metricsServer ? metricsServerImages(inv) : []),
    ...(inv.addons.nodeLocalDns ? nodeLocalDnsImages(inv) : []),
    smokeImage(inv),
  ].map(imageSource);
  const all = [...catalog, ...addons];
  return all.filter((image, i) => all.findIndex((other) => other.reference === image.reference) === i);
}
