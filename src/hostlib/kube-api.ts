import { APISERVER_PORT } from '../components/kubeconfig.js';
import { needsLocalBalancer } from '../components/kubernetes/haproxy.js';
import { adminKubeconfig, superAdminKubeconfig } from '../components/kubernetes/kubeconfigs.js';
import type { DeployContext } from '../engine/step.js';
import { OperationError } from '../errors.js';
import type { HostSpec } from '../inventory/schema.js';
import { openKubeApi } from '../kube/api.js';
import type { KubeApi } from '../kube/types.js';
import { kubernetesPki } from './kubernetes-pki.js';

/**
 * Runs fn with the cluster's API, reached through the SSH connection of the first master of the
 * step (its local balancer, or its own apiserver when a control-plane endpoint replaces the
 * balancer). `superAdmin` uses the break-glass identity, for what must exist before the admin
 * group is bound to cluster-admin.
 */
export async function withClusterApi<T>(
  ctx: DeployContext,
  fn: (api: KubeApi, via: HostSpec) => Promise<T>,
  options: { superAdmin?: boolean } = {},
): Promise<T> {
  const via = ctx.hosts.find((h) => h.roles.includes('master'));
  if (!via)
    throw new OperationError(
      'no master of this run is reachable, so the Kubernetes API cannot be reached',
      'bring a master back (or fix its step failures above) and re-run',
    );
  const { pki } = await kubernetesPki(ctx);
  const kubeconfig = (options.superAdmin ? superAdminKubeconfig : adminKubeconfig)(ctx.inventory, pki);
  const target = needsLocalBalancer(ctx.inventory)
    ? { host: '127.0.0.1', port: APISERVER_PORT }
    : { host: via.address, port: APISERVER_PORT };
  const api = await openKubeApi(ctx.conn(via.name), kubeconfig, { signal: ctx.signal, target });
  try {
    return await fn(api, via);
  } finally {
    await api.close();
  }
}
