import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { listUserBindings, listUserNamespaces, RBAC_API, scopeOf } from '../kube/user-access.js';
import { REVOKE_RESULT, REVOKE_USER } from '../kube/user-run-keys.js';
import { removeUserKubeconfig } from '../pki/user-records.js';

/**
 * kubeconfig --revoke: every binding kubesmith made for the user removed, and its kubeconfig (the
 * key) on this machine. The certificate itself cannot be revoked in Kubernetes: it still
 * authenticates until it expires, with no permission left.
 */
export const userRevoke: DeployStep = {
  id: 'user-revoke',
  title: "User access: the user's bindings removed",
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const user = data.need(REVOKE_USER);
    const { removed, namespacesLeft } = await withClusterApi(ctx, async (api, via) => {
      const bindings = await listUserBindings(api, user);
      const gone = [];
      for (const binding of bindings) {
        // Gone already (another run, someone's kubectl): nothing to remove, nothing to report.
        if (!(await api.delete(RBAC_API, binding.kind, binding.name, binding.namespace))) continue;
        gone.push(binding);
        ctx.log(`${user}: ${binding.kind} ${binding.name} in ${scopeOf(binding)} removed`);
        ctx.changed(via.name);
      }
      return { removed: gone, namespacesLeft: await listUserNamespaces(api, user) };
    });
    const kubeconfigRemoved = await removeUserKubeconfig(ctx.clusterDir, user);
    data.set(REVOKE_RESULT, { removed, kubeconfigRemoved, namespacesLeft });
  },
};
