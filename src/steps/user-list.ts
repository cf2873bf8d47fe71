import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { listUserBindings, listUserNamespaces } from '../kube/user-access.js';
import { LIST_USER, USER_ACCESS } from '../kube/user-run-keys.js';

/** kubeconfig --list, and the plan of --revoke: the bindings (and namespaces) kubesmith made for users. */
export const userList: DeployStep = {
  id: 'user-list',
  title: 'User access: the bindings kubesmith made for users',
  onDeployMachine: true,
  readOnly: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const user = data.get(LIST_USER);
    const access = await withClusterApi(ctx, async (api) => ({
      bindings: await listUserBindings(api, user),
      namespaces: await listUserNamespaces(api, user),
    }));
    data.set(USER_ACCESS, access);
  },
};
