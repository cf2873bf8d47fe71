import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import type { WorkloadRef } from '../network/types.js';

export type DashboardSettings = Inventory['addons']['dashboard'];

/** How a user on the deploy machine reaches the dashboard: kubectl port-forward to its ClusterIP Service. */
export interface DashboardAccess {
  service: string;
  servicePort: number;
  /** The local port the printed port-forward command uses. */
  localPort: number;
  scheme: 'http' | 'https';
}

/** What kubesmith knows of one dashboard (addons.dashboard.kind). */
export interface DashboardKind {
  /** Where the dashboard runs, and where kubesmith's ServiceAccount for its users lives. */
  namespace: string;
  /** The workload that is ready when the dashboard is. */
  wait: WorkloadRef;
  access: DashboardAccess;
  /** Upstream's objects, patched for the inventory; without kubesmith's ServiceAccount and binding. */
  objects(inv: Inventory): KubeObject[];
}

/** The dashboard's image: addons.dashboard.image as written, else upstream's at addons.dashboard.version or the manifest's. */
export function dashboardImage(repository: string, version: string, settings: DashboardSettings): string {
  return settings.image ?? `${repository}:v${settings.version ?? version}`;
}
