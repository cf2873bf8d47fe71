import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import { useImages } from '../network/images.js';
import { containerNamed, objectNamed } from '../network/manifest.js';
import type { WorkloadRef } from '../network/types.js';
import { CONTROL_PLANE_TOLERATION } from './coredns.js';
import { k8sRegistryImage } from './images.js';
import { addonManifest, type Fields, fieldsAt, listAt, podSpec } from './manifest.js';

/**
 * The image the lab builds (LAB_IMAGES in src/lab/build/recipes.ts); the manifests are v0.9.0's,
 * whose Deployment runs v0.8.0 unchanged (same flags, same ports).
 */
export const METRICS_SERVER_IMAGE = 'registry.k8s.io/metrics-server/metrics-server:v0.8.0';

export const METRICS_SERVER_DEPLOYMENT: WorkloadRef = {
  kind: 'Deployment',
  namespace: 'kube-system',
  name: 'metrics-server',
};

/** The APIService through which the apiserver serves metrics.k8s.io (kubectl top). */
export const METRICS_API_SERVICE = 'v1beta1.metrics.k8s.io';

/** The kustomize base's resources, in the order they are applied (the APIService once its Service exists). */
const BASE_FILES = ['rbac.yaml', 'service.yaml', 'deployment.yaml', 'apiservice.yaml'];
/** base/kustomization.yaml's commonLabels. */
const COMMON_LABELS = { 'k8s-app': 'metrics-server' };

/**
 * kubesmith's kubelets serve certs of the cluster CA naming the node and its address, so
 * metrics-server verifies them with that CA (never --kubelet-insecure-tls). The pod reads the CA
 * from kube-root-ca.crt, the ConfigMap kube-controller-manager publishes in every namespace.
 */
const KUBELET_CA_DIR = '/etc/kubelet-ca';
const KUBELET_CA_VOLUME = {
  name: 'kubelet-ca',
  configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
};
const KUBESMITH_FLAGS: Record<string, string> = {
  '--kubelet-certificate-authority': `${KUBELET_CA_DIR}/ca.crt`,
  // The serving certs hold the node's name and address only (no ExternalIP).
  '--kubelet-preferred-address-types': 'InternalIP,Hostname',
  '--metric-resolution': '15s',
};

export interface MetricsServerOptions {
  /** Default: METRICS_SERVER_IMAGE through cluster.imageRegistry. */
  image?: string;
}

export function metricsServerImages(inv: Inventory, options: MetricsServerOptions = {}): string[] {
  return [options.image ?? k8sRegistryImage(METRICS_SERVER_IMAGE, inv.cluster.imageRegistry)];
}

function addLabels(fields: Fields, path: readonly string[]): void {
  Object.assign(fieldsAt(fields, path, true), COMMON_LABELS);
}

/** What kustomize's commonLabels does to these objects: labels on each, and the selectors. */
function withCommonLabels(objects: KubeObject[]): void {
  for (const object of objects) addLabels(object, ['metadata', 'labels']);
  const deployment = objectNamed(objects, METRICS_SERVER_DEPLOYMENT.kind, METRICS_SERVER_DEPLOYMENT.name);
  addLabels(deployment, ['spec', 'selector', 'matchLabels']);
  addLabels(deployment, ['spec', 'template', 'metadata', 'labels']);
  addLabels(objectNamed(objects, 'Service', 'metrics-server'), ['spec', 'selector']);
}

/** `args` with each flag set to the value given: in place of upstream's value, or added. */
function withFlags(args: string[], flags: Record<string, string>): string[] {
  const kept = args.filter((arg) => !Object.hasOwn(flags, arg.split('=')[0]!));
  return [...kept, ...Object.entries(flags).map(([flag, value]) => `${flag}=${value}`)];
}

/**
 * metrics-server v0.9.0's release objects (the kustomize base with the labels its kustomization adds),
 * verifying the kubelets' serving certs with the cluster CA.
 */
export function metricsServerObjects(inv: Inventory, options: MetricsServerOptions = {}): KubeObject[] {
  const objects = BASE_FILES.flatMap((file) => addonManifest(`metrics-server/base/${file}`));
  withCommonLabels(objects);
  const deployment = objectNamed(objects, METRICS_SERVER_DEPLOYMENT.kind, METRICS_SERVER_DEPLOYMENT.name);
  listAt(podSpec(deployment), 'volumes').push(structuredClone(KUBELET_CA_VOLUME));
  // A cluster of masters only (mastersSchedulable false) must still have a metrics API.
  listAt(podSpec(deployment), 'tolerations').push({ ...CONTROL_PLANE_TOLERATION });
  const server = containerNamed(deployment, 'metrics-server');
  server.image = metricsServerImages(inv, options)[0]!;
  server.args = withFlags(server.args ?? [], KUBESMITH_FLAGS);
  listAt(server, 'volumeMounts').push({
    name: KUBELET_CA_VOLUME.name,
    mountPath: KUBELET_CA_DIR,
    readOnly: true,
  });
  useImages(objects, undefined); // no mirror: the name is set above; pulled only when missing
  return objects;
}
