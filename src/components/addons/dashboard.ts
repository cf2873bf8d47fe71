import { DASHBOARD_ROLES, type Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import { useImages } from '../network/images.js';
import { workloadContainers } from '../network/manifest.js';
import type { DashboardKind } from './dashboard-kind.js';
import { HEADLAMP } from './headlamp.js';
import type { Addon } from './index.js';
import { KUBERNETES_DASHBOARD } from './kubernetes-dashboard.js';

/** The ServiceAccount whose short-lived tokens `kubesmith dashboard-token` prints, in the dashboard's namespace. */
export const DASHBOARD_USER = 'kubesmith-dashboard';

/**
 * Set on every dashboard object: with the dashboard disabled (the default), only objects that carry
 * it are deleted, never a dashboard someone installed by other means under the same names.
 */
const MANAGED_BY_KUBESMITH = { 'app.kubernetes.io/managed-by': 'kubesmith' };

export const isKubesmithManaged = (o: KubeObject | undefined) =>
  o?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'kubesmith';

export const DASHBOARD_KINDS: Record<Inventory['addons']['dashboard']['kind'], DashboardKind> = {
  headlamp: HEADLAMP,
  'kubernetes-dashboard': KUBERNETES_DASHBOARD,
};

/** The binding is named for its role: a ClusterRoleBinding's roleRef cannot change, so another role is another binding. */
export const dashboardBindingName = (role: string) => `kubesmith:dashboard:${role}`;

function userAccess(namespace: string, role: string): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DASHBOARD_USER, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: dashboardBindingName(role) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: DASHBOARD_USER, namespace }],
    },
  ];
}

function marked(objects: KubeObject[]): KubeObject[] {
  for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...MANAGED_BY_KUBESMITH };
  return objects;
}

/** The objects of one dashboard kind with kubesmith's ServiceAccount bound to `role`. */
function kindObjects(inv: Inventory, kind: DashboardKind, role: string): KubeObject[] {
  const objects = marked([...kind.objects(inv), ...userAccess(kind.namespace, role)]);
  useImages(objects, undefined); // no mirror: containerd pulls through cluster.registryMirrors
  return objects;
}

/** What addons.dashboard asks for: its kind's objects, kubesmith's ServiceAccount and its role's binding. */
export function dashboardObjects(inv: Inventory): KubeObject[] {
  const { kind, role } = inv.addons.dashboard;
  return kindObjects(inv, DASHBOARD_KINDS[kind], role);
}

/** The images dashboardObjects' containers run (not built by the lab). */
export function dashboardImages(inv: Inventory): string[] {
  return workloadContainers(dashboardObjects(inv)).map((c) => c.image);
}

const identity = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Every object any dashboard kind and role could have left behind. */
function everyDashboardObject(inv: Inventory): KubeObject[] {
  const all = Object.values(DASHBOARD_KINDS).flatMap((kind) =>
    DASHBOARD_ROLES.flatMap((role) => kindObjects(inv, kind, role)),
  );
  return [...new Map(all.map((o) => [identity(o), o])).values()];
}

/**
 * The dashboard addon. Enabled: its objects, and as obsolete those of the other kind and role (a
 * changed kind or role leaves nothing behind). Disabled: everything any kind could have created.
 */
export function dashboardAddon(inv: Inventory): Addon {
  const settings = inv.addons.dashboard;
  const kind = DASHBOARD_KINDS[settings.kind];
  const every = everyDashboardObject(inv);
  if (!settings.enabled) return { name: 'dashboard', enabled: false, objects: every };
  const objects = dashboardObjects(inv);
  const wanted = new Set(objects.map(identity));
  return {
    name: 'dashboard',
    enabled: true,
    objects,
    obsolete: every.filter((o) => !wanted.has(identity(o))),
    wait: kind.wait,
    note: `the dashboard's images (${dashboardImages(inv).join(', ')}) are not among those the lab builds: on a lab cluster it is rendered and contract-tested only, and its pods cannot start`,
  };
}
