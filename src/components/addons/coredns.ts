import { imageCatalogFor } from '../../artifacts/image-catalog.js';
import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import { serviceIp } from '../../pki/kubernetes-spec.js';
import { useImages } from '../network/images.js';
import { configMapData, containerNamed, objectNamed } from '../network/manifest.js';
import type { WorkloadRef } from '../network/types.js';
import { addonManifest, fieldsAt, filled, listAt, podSpec } from './manifest.js';

export const COREDNS_DEPLOYMENT: WorkloadRef = {
  kind: 'Deployment',
  namespace: 'kube-system',
  name: 'coredns',
};

/** The label upstream's Deployment, its anti-affinity and the kube-dns Service select CoreDNS's pods by. */
const DNS_POD_LABELS = { 'k8s-app': 'kube-dns' };
/** kubeadm's CoreDNS memory limit. */
const MEMORY_LIMIT = '170Mi';
/** Masters carry this taint unless cluster.mastersSchedulable; kubeadm's CoreDNS tolerates it too. */
export const CONTROL_PLANE_TOLERATION = {
  key: 'node-role.kubernetes.io/control-plane',
  effect: 'NoSchedule',
};

export interface CorednsOptions {
  /** Default: the inventory's Kubernetes minor's CoreDNS (kubeadm's pin) through cluster.imageRegistry. */
  image?: string;
  /** Default 2, kept on different nodes where there are enough (preferred anti-affinity). */
  replicas?: number;
  /** The kube-dns Service's address; default the 10th address of the service CIDR, the kubelets' clusterDNS. */
  clusterIp?: string;
  /** Where names outside the cluster go: resolvers, or 'none' (cluster names only); default the node's resolv.conf. */
  upstream?: string[] | 'none';
}

const FORWARD = /^( *)forward \. \/etc\/resolv\.conf \{\n(?:\1 .*\n)*?\1\}\n/m;

/** The Corefile with its forward block aimed at the given resolvers, or without it ('none'). */
export function withUpstream(corefile: string, upstream: CorednsOptions['upstream']): string {
  if (upstream === undefined || (Array.isArray(upstream) && upstream.length === 0)) return corefile;
  const block = FORWARD.exec(corefile);
  if (!block) throw new Error('the Corefile has no forward . /etc/resolv.conf block');
  const replacement = upstream === 'none' ? '' : block[0].replace('/etc/resolv.conf', upstream.join(' '));
  return corefile.replace(block[0], replacement);
}

/** The image corednsObjects' Deployment runs, the one `kubesmith download --bundle` saves. */
export function corednsImages(inv: Inventory, options: Pick<CorednsOptions, 'image'> = {}): string[] {
  if (options.image) return [options.image];
  const { kubernetesVersion, imageRegistry } = inv.cluster;
  const catalogued = imageCatalogFor(kubernetesVersion, imageRegistry).find((i) => i.role === 'coredns');
  if (!catalogued) throw new Error(`the image catalog has no CoreDNS for Kubernetes ${kubernetesVersion}`);
  return [catalogued.reference];
}

/** At most one CoreDNS pod evicted at a time by a drain (upstream ships no PodDisruptionBudget). */
function disruptionBudget(): KubeObject {
  const { namespace, name } = COREDNS_DEPLOYMENT;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace, labels: { ...DNS_POD_LABELS } },
    spec: { maxUnavailable: 1, selector: { matchLabels: { ...DNS_POD_LABELS } } },
  };
}

/**
 * Upstream's CoreDNS addon (kubernetes cluster/addons/dns/coredns) for the inventory: its
 * placeholders filled in the parsed objects (cluster domain, kube-dns address, memory limit),
 * replicas set, masters tolerated, and a PodDisruptionBudget added.
 */
export function corednsObjects(inv: Inventory, options: CorednsOptions = {}): KubeObject[] {
  const objects = addonManifest('coredns/coredns.yaml.base');
  const data = configMapData(objectNamed(objects, 'ConfigMap', 'coredns'));
  data.Corefile = withUpstream(
    filled(data.Corefile, '__DNS__DOMAIN__', inv.cluster.network.dnsDomain, 'the Corefile'),
    options.upstream,
  );

  const deployment = objectNamed(objects, COREDNS_DEPLOYMENT.kind, COREDNS_DEPLOYMENT.name);
  fieldsAt(deployment, ['spec']).replicas = options.replicas ?? 2;
  listAt(podSpec(deployment), 'tolerations').push({ ...CONTROL_PLANE_TOLERATION });
  const coredns = containerNamed(deployment, 'coredns');
  coredns.image = corednsImages(inv, options)[0]!;
  const limits = fieldsAt(coredns, ['resources', 'limits']);
  limits.memory = filled(limits.memory, '__DNS__MEMORY__LIMIT__', MEMORY_LIMIT, 'the memory limit');

  const service = fieldsAt(objectNamed(objects, 'Service', 'kube-dns'), ['spec']);
  const clusterIp = options.clusterIp ?? serviceIp(inv, 10);
  service.clusterIP = filled(service.clusterIP, '__DNS__SERVER__', clusterIp, 'the kube-dns clusterIP');
  useImages(objects, undefined); // no mirror: the name is set above; pulled only when missing
  return [...objects, disruptionBudget()];
}
