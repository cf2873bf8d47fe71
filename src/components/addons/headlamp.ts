import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import { containerNamed, objectNamed } from '../network/manifest.js';
import type { EnvVar } from '../network/types.js';
import { CONTROL_PLANE_TOLERATION } from './coredns.js';
import { type DashboardKind, dashboardImage } from './dashboard-kind.js';
import { addonManifest, listAt, podSpec } from './manifest.js';

/** templates/addons/headlamp/kubernetes-headlamp.yaml is v0.45.0's; its Deployment runs :latest. */
const HEADLAMP_REPOSITORY = 'ghcr.io/headlamp-k8s/headlamp';
const HEADLAMP_VERSION = '0.45.0';
const NAMESPACE = 'kube-system';

/**
 * What upstream's Helm chart (charts/headlamp/values.yaml) runs the container with: the image's
 * own unprivileged user; the plain manifest has no securityContext at all.
 */
const SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 100,
  runAsGroup: 101,
  privileged: false,
  allowPrivilegeEscalation: false,
};

function setEnv(env: EnvVar[], name: string, value: string): void {
  const found = env.find((e) => e.name === name);
  if (!found) throw new Error(`the headlamp container has no ${name} to set`);
  found.value = value;
}

/**
 * Headlamp's plain manifest with its image pinned, the Secret dropped (a long-lived token of a
 * ServiceAccount the manifest does not create; kubesmith hands out short-lived ones instead),
 * tracing off (it would export to an otel-collector no kubesmith cluster has), the chart's
 * securityContext, and masters tolerated.
 */
function headlampObjects(inv: Inventory): KubeObject[] {
  const settings = inv.addons.dashboard;
  const objects = addonManifest('headlamp/kubernetes-headlamp.yaml').filter((o) => o.kind !== 'Secret');
  const deployment = objectNamed(objects, 'Deployment', 'headlamp');
  listAt(podSpec(deployment), 'tolerations').push({ ...CONTROL_PLANE_TOLERATION });
  const headlamp = containerNamed(deployment, 'headlamp');
  headlamp.image = dashboardImage(HEADLAMP_REPOSITORY, HEADLAMP_VERSION, settings);
  const env = listAt(headlamp, 'env') as EnvVar[];
  setEnv(env, 'HEADLAMP_CONFIG_TRACING_ENABLED', 'false');
  setEnv(env, 'HEADLAMP_CONFIG_SERVICE_VERSION', settings.version ?? HEADLAMP_VERSION);
  headlamp.securityContext = { ...SECURITY_CONTEXT };
  return objects;
}

export const HEADLAMP: DashboardKind = {
  namespace: NAMESPACE,
  wait: { kind: 'Deployment', namespace: NAMESPACE, name: 'headlamp' },
  access: { service: 'headlamp', servicePort: 80, localPort: 8080, scheme: 'http' },
  objects: headlampObjects,
};
