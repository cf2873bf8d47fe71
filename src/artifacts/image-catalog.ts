import { minorOf } from '../inventory/versions.js';

/**
 * The container images a cluster of each Kubernetes minor runs before any addon of its own:
 * kubeadm's pins (cmd/kubeadm/app/constants/constants.go, as held in the shared reference
 * images.tsv). `kubesmith download --bundle` saves them so an air-gapped site needs no registry.
 */
interface MinorImages {
  pause: string;
  coredns: string;
}

export const IMAGE_VERSIONS: Record<string, MinorImages> = {
  '1.34': { pause: '3.10.1', coredns: 'v1.12.1' },
  '1.35': { pause: '3.10.1', coredns: 'v1.13.1' },
  // The newer of the two kubeadm 1.36 snapshots held (the older one had v1.13.1).
  '1.36': { pause: '3.10.1', coredns: 'v1.14.1' },
  // No kubeadm 1.37 snapshot is held: 1.36's pins until one is.
  '1.37': { pause: '3.10.1', coredns: 'v1.14.1' },
};

export const DEFAULT_IMAGE_REGISTRY = 'registry.k8s.io';

export interface CatalogImage {
  /** What the image is for: pause, coredns. */
  role: keyof MinorImages;
  /** Full reference through cluster.imageRegistry, e.g. registry.k8s.io/pause:3.10.1. */
  reference: string;
  /** Registry host (with port), e.g. registry.k8s.io or 127.0.0.1:5000. */
  registry: string;
  /** Repository inside the registry (a registry path prefix included), e.g. coredns/coredns. */
  repository: string;
  tag: string;
}

/**
 * The images of a Kubernetes version, through `imageRegistry` (a host with an optional path,
 * e.g. registry.aliyuncs.com/google_containers for mainland China). CoreDNS sits under
 * coredns/ only on the default registry, as kubeadm names it; mirrors keep it flat.
 */
export function imageCatalogFor(
  kubernetesVersion: string,
  imageRegistry = DEFAULT_IMAGE_REGISTRY,
): CatalogImage[] {
  const versions = IMAGE_VERSIONS[minorOf(kubernetesVersion)];
  if (!versions) throw new Error(`no image catalog for Kubernetes ${kubernetesVersion}`);
  const [registry = imageRegistry, ...prefix] = imageRegistry.split('/');
  const path = (name: string) => [...prefix, name].join('/');
  const coredns = imageRegistry === DEFAULT_IMAGE_REGISTRY ? 'coredns/coredns' : 'coredns';
  const images: CatalogImage[] = [
    { role: 'pause', reference: '', registry, repository: path('pause'), tag: versions.pause },
    { role: 'coredns', reference: '', registry, repository: path(coredns), tag: versions.coredns },
  ];
  return images.map((image) => ({ ...image, reference: `${registry}/${image.repository}:${image.tag}` }));
}
