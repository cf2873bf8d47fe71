import type { DeployStep } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { pollUntil } from '../kube/poll.js';
import { KubeApiError } from '../kube/responses.js';
import type { KubeApi, KubeObject } from '../kube/types.js';
import { CLUSTER_ADMINS_GROUP } from '../pki/kubernetes-spec.js';

const LEASE_TIMEOUT_MS = 90_000;
const LEADERS = ['kube-controller-manager', 'kube-scheduler'];

/** The admin group (kubernetes-admin, the apiserver's kubelet client) bound to cluster-admin, as kubeadm does. */
export const clusterAdminsBinding: KubeObject = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: CLUSTER_ADMINS_GROUP, labels: { 'app.kubernetes.io/managed-by': 'kubesmith' } },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CLUSTER_ADMINS_GROUP }],
};

/**
 * After the control plane runs: the admin group's binding (applied with the break-glass
 * identity, the only one that can before it exists), then proof that a controller manager and a
 * scheduler lead (their leases held and renewed).
 */
export const kubeAccess: DeployStep = {
  id: 'kube-access',
  title: 'Cluster access: the admin group bound to cluster-admin; controller-manager and scheduler leading',
  onDeployMachine: true,
  async run(ctx) {
    if (ctx.dryRun) {
      ctx.log(
        `would apply ClusterRoleBinding ${CLUSTER_ADMINS_GROUP} -> cluster-admin and wait for the leases`,
      );
      return;
    }
    // The admin identity once the binding exists; the break-glass one only to create it, so
    // system:masters shows in the audit log once, not at every run.
    const bind = (api: KubeApi) => api.apply([clusterAdminsBinding]);
    const asAdmin = await withClusterApi(ctx, (api) =>
      bind(api).catch((error: unknown) => {
        if (error instanceof KubeApiError && error.status === 403) return undefined;
        throw error;
      }),
    );
    const [result] = asAdmin ?? (await withClusterApi(ctx, bind, { superAdmin: true }));
    if (result && result.action !== 'unchanged') {
      ctx.changed(ctx.hosts[0]!.name);
      ctx.log(`ClusterRoleBinding ${CLUSTER_ADMINS_GROUP} ${result.action}`);
    }
    await withClusterApi(ctx, async (api) => {
      const holders = await leaseHolders(api, ctx.signal);
      ctx.log(`leaders: ${LEADERS.map((l) => `${l} on ${holders.get(l)}`).join(', ')}`);
    });
  },
};

/** A leader's lease renews every few seconds; one not renewed for this long has no live holder. */
const STALE_LEASE_MS = 60_000;

/** The lease's holder (its host name), or '' when nobody holds it or its holder stopped renewing it. */
const holderOf = (lease: KubeObject | undefined, now = Date.now()) => {
  const spec = lease?.spec as { holderIdentity?: string; renewTime?: string } | undefined;
  const renewed = spec?.renewTime ? Date.parse(spec.renewTime) : Number.NaN;
  if (!(now - renewed < STALE_LEASE_MS)) return '';
  return spec?.holderIdentity?.split('_')[0] ?? '';
};

async function leaseHolders(api: KubeApi, signal: AbortSignal): Promise<Map<string, string>> {
  const holders = new Map<string, string>();
  const held = await pollUntil(
    async () => {
      for (const name of LEADERS)
        holders.set(name, holderOf(await api.get('coordination.k8s.io/v1', 'Lease', name, 'kube-system')));
      return [...holders.values()].every(Boolean);
    },
    { timeoutMs: LEASE_TIMEOUT_MS, signal },
  );
  if (!held)
    throw new OperationError(
      `no live leader after ${LEASE_TIMEOUT_MS / 1000} s for ${LEADERS.filter((l) => !holders.get(l)).join(', ')} (its lease is missing or not renewed within ${STALE_LEASE_MS / 1000} s)`,
      'journalctl -u kube-controller-manager -u kube-scheduler on the masters says why',
    );
  return holders;
}
