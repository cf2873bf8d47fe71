import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_USER,
  dashboardAddon,
  dashboardBindingName,
  dashboardImages,
  dashboardObjects,
  isKubesmithManaged,
} from '../../../../src/components/addons/dashboard.js';
import { workloadContainers } from '../../../../src/components/network/manifest.js';
import type { Inventory } from '../../../../src/inventory/schema.js';
import type { KubeObject } from '../../../../src/kube/types.js';
import { expectWellFormed, find, inventory } from './fixture.js';

type Dashboard = Partial<Inventory['addons']['dashboard']>;
const withDashboard = (dashboard: Dashboard, cluster = {}) =>
  inventory(cluster, { dashboard: { enabled: true, ...dashboard } });
const ids = (objects: KubeObject[] = []) =>
  objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
const podSpecOf = (o: KubeObject) =>
  (o.spec as { template: { spec: Record<string, unknown> } }).template.spec;
const CONTROL_PLANE = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

describe('dashboard addon: headlamp (the default kind)', () => {
  const objects = dashboardObjects(withDashboard({}));

  it("renders upstream's Service and Deployment in kube-system, without its long-lived token Secret", () => {
    expect(ids(objects)).toEqual([
      'Service/kube-system/headlamp',
      'Deployment/kube-system/headlamp',
      `ServiceAccount/kube-system/${DASHBOARD_USER}`,
      'ClusterRoleBinding//kubesmith:dashboard:cluster-admin',
    ]);
    expectWellFormed(objects);
    expect(objects.every(isKubesmithManaged)).toBe(true);
  });

  it('pins the image, turns tracing off, runs unprivileged as the chart does and tolerates masters', () => {
    const deployment = find(objects, 'Deployment', 'headlamp');
    const [headlamp] = workloadContainers([deployment]);
    expect(headlamp?.image).toBe('ghcr.io/headlamp-k8s/headlamp:v0.45.0');
    expect(headlamp?.imagePullPolicy).toBe('IfNotPresent');
    expect(headlamp?.env).toContainEqual({ name: 'HEADLAMP_CONFIG_TRACING_ENABLED', value: 'false' });
    expect(headlamp?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 100,
      privileged: false,
    });
    expect(podSpecOf(deployment).tolerations).toEqual([CONTROL_PLANE]);
    expect(podSpecOf(deployment).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it("binds kubesmith's ServiceAccount to the inventory's ClusterRole", () => {
    for (const role of ['cluster-admin', 'view'] as const) {
      const binding = find(
        dashboardObjects(withDashboard({ role })),
        'ClusterRoleBinding',
        dashboardBindingName(role),
      );
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role,
      });
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: DASHBOARD_USER, namespace: 'kube-system' },
      ]);
    }
  });

  it('takes the image or version from the inventory, as written (cluster.imageRegistry is for registry.k8s.io)', () => {
    expect(dashboardImages(withDashboard({ version: '0.46.1' }))).toEqual([
      'ghcr.io/headlamp-k8s/headlamp:v0.46.1',
    ]);
    expect(dashboardImages(withDashboard({ image: 'harbor.local/ui/headlamp:v0.45.0' }))).toEqual([
      'harbor.local/ui/headlamp:v0.45.0',
    ]);
    expect(
      dashboardImages(withDashboard({}, { imageRegistry: 'registry.aliyuncs.com/google_containers' })),
    ).toEqual(['ghcr.io/headlamp-k8s/headlamp:v0.45.0']);
  });
});

describe('dashboard addon: kubernetes-dashboard', () => {
  const objects = dashboardObjects(withDashboard({ kind: 'kubernetes-dashboard', role: 'view' }));

  it("renders upstream's objects in its namespace, with kubesmith's ServiceAccount and binding", () => {
    expect(ids(objects)).toContain('Namespace//kubernetes-dashboard');
    expect(ids(objects).slice(-2)).toEqual([
      `ServiceAccount/kubernetes-dashboard/${DASHBOARD_USER}`,
      'ClusterRoleBinding//kubesmith:dashboard:view',
    ]);
    expectWellFormed(objects);
  });

  it('names the registry of both images, pulls them if not present, tolerates the control-plane taint only', () => {
    expect(workloadContainers(objects).map((c) => [c.image, c.imagePullPolicy])).toEqual([
      ['docker.io/kubernetesui/dashboard:v2.7.0', 'IfNotPresent'],
      ['docker.io/kubernetesui/metrics-scraper:v1.0.8', 'IfNotPresent'],
    ]);
    for (const name of ['kubernetes-dashboard', 'dashboard-metrics-scraper'])
      expect(podSpecOf(find(objects, 'Deployment', name)).tolerations).toEqual([CONTROL_PLANE]);
  });

  it('leaves the csrf Secret without data: the dashboard stores its key there, a re-apply must not wipe it', () => {
    expect(find(objects, 'Secret', 'kubernetes-dashboard-csrf').data).toBeUndefined();
  });
});

describe('dashboardAddon', () => {
  it('is disabled by default and then lists, for removal, every object any kind and role creates', () => {
    const addon = dashboardAddon(inventory());
    expect(addon.enabled).toBe(false);
    expect(addon.wait).toBeUndefined();
    const all = ids(addon.objects);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(
      expect.arrayContaining([
        'Deployment/kube-system/headlamp',
        'Deployment/kubernetes-dashboard/kubernetes-dashboard',
        'Namespace//kubernetes-dashboard',
        `ServiceAccount/kube-system/${DASHBOARD_USER}`,
        `ServiceAccount/kubernetes-dashboard/${DASHBOARD_USER}`,
        'ClusterRoleBinding//kubesmith:dashboard:cluster-admin',
        'ClusterRoleBinding//kubesmith:dashboard:view',
      ]),
    );
    expect(addon.objects.every(isKubesmithManaged)).toBe(true);
  });

  it('enabled: waits for its Deployment and removes what another kind or role left, never what it applies', () => {
    const addon = dashboardAddon(withDashboard({ role: 'view' }));
    expect(addon.wait).toEqual({ kind: 'Deployment', namespace: 'kube-system', name: 'headlamp' });
    expect(addon.note).toMatch(/ghcr\.io\/headlamp-k8s\/headlamp:v0\.45\.0.*not among those the lab builds/);
    const obsolete = ids(addon.obsolete);
    expect(obsolete).toContain('ClusterRoleBinding//kubesmith:dashboard:cluster-admin');
    expect(obsolete).toContain('Namespace//kubernetes-dashboard');
    for (const id of ids(addon.objects)) expect(obsolete).not.toContain(id);
  });

  it('recognises only objects that carry the managed-by label as its own', () => {
    const foreign: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'kubernetes-dashboard' },
    };
    expect(isKubesmithManaged(foreign)).toBe(false);
    expect(isKubesmithManaged(undefined)).toBe(false);
  });
});
