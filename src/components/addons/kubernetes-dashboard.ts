import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import { containerNamed, objectNamed, workloadContainers } from '../network/manifest.js';
import { CONTROL_PLANE_TOLERATION } from './coredns.js';
import { type DashboardKind, dashboardImage } from './dashboard-kind.js';
import { addonManifest, podSpec } from './manifest.js';

/** templates/addons/dashboard/recommended.yaml (v2.7.0) names its images without a registry: Docker Hub's. */
const DASHBOARD_REPOSITORY = 'docker.io/kubernetesui/dashboard';
const DASHBOARD_VERSION = '2.7.0';
const NAMESPACE = 'kubernetes-dashboard';
/** The taint upstream tolerates, which Kubernetes stopped setting in 1.25; kubesmith's masters carry CONTROL_PLANE_TOLERATION's. */
const LEGACY_MASTER_TAINT = 'node-role.kubernetes.io/master';

/**
 * Kubernetes Dashboard v2.7.0's recommended.yaml with its images named with their registry (so
 * cluster.registryMirrors for docker.io apply), the dashboard's at the inventory's image or version,
 * masters tolerated by today's taint, and the csrf Secret without its empty key: the dashboard stores
 * its key there at start, and a re-apply of the empty one would take it away on every run.
 */
function kubernetesDashboardObjects(inv: Inventory): KubeObject[] {
  const objects = addonManifest('dashboard/recommended.yaml');
  delete objectNamed(objects, 'Secret', 'kubernetes-dashboard-csrf').data;
  for (const container of workloadContainers(objects)) container.image = `docker.io/${container.image}`;
  const dashboard = objectNamed(objects, 'Deployment', 'kubernetes-dashboard');
  containerNamed(dashboard, 'kubernetes-dashboard').image = dashboardImage(
    DASHBOARD_REPOSITORY,
    DASHBOARD_VERSION,
    inv.addons.dashboard,
  );
  for (const workload of [dashboard, objectNamed(objects, 'Deployment', 'dashboard-metrics-scraper')]) {
    const pod = podSpec(workload);
    const tolerations = (pod.tolerations ?? []) as { key?: string }[];
    pod.tolerations = [
      ...tolerations.filter((t) => t.key !== LEGACY_MASTER_TAINT),
      { ...CONTROL_PLANE_TOLERATION },
    ];
  }
  return objects;
}

export const KUBERNETES_DASHBOARD: DashboardKind = {
  namespace: NAMESPACE,
  wait: { kind: 'Deployment', namespace: NAMESPACE, name: 'kubernetes-dashboard' },
  access: { service: 'kubernetes-dashboard', servicePort: 443, localPort: 8443, scheme: 'https' },
  objects: kubernetesDashboardObjects,
};
