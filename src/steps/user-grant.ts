import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { InputError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { kubernetesPki } from '../hostlib/kubernetes-pki.js';
import type { KubeApi } from '../kube/types.js';
import {
  listUserBindings,
  needsReplacing,
  scopeOf,
  userBinding,
  userNamespace,
} from '../kube/user-access.js';
import { GRANT_REQUEST, GRANT_RESULT, type GrantRequest, type GrantResult } from '../kube/user-run-keys.js';
import { CA } from '../pki/spec.js';
import { issueUserCert, userCertFacts, userKubeconfig } from '../pki/user-cert.js';
import { saveUserRecord } from '../pki/user-records.js';

/** The namespace of the grant, made only when asked; whether it was made. Refused before any change otherwise. */
async function ensureNamespace(api: KubeApi, request: GrantRequest): Promise<boolean> {
  const { namespace, user } = request;
  if (!namespace || (await api.get('v1', 'Namespace', namespace))) return false;
  if (!request.createNamespace)
    throw new InputError(
      `--namespace: namespace ${namespace} does not exist; add --create-namespace to create it (labelled for ${user}), or check the name`,
    );
  await api.apply([userNamespace(namespace, user)]);
  return true;
}

/** The user's binding in the grant's scope; a binding to another role is replaced (a roleRef cannot change). */
async function bind(api: KubeApi, request: GrantRequest): Promise<GrantResult['binding']> {
  const wanted = userBinding(request);
  const { apiVersion, kind, metadata } = wanted;
  const existing = await api.get(apiVersion, kind, metadata.name, metadata.namespace);
  const replacing = needsReplacing(existing, request);
  if (replacing) await api.delete(apiVersion, kind, metadata.name, metadata.namespace);
  const [applied] = await api.apply([wanted]);
  return replacing ? 'replaced' : (applied?.action ?? 'unchanged');
}

/**
 * kubeconfig --user: a client certificate (CN user, O group) signed by the cluster CA on this
 * machine, the user bound to its ClusterRole (a RoleBinding in the namespace, else a
 * ClusterRoleBinding), then its kubeconfig written under clusters/<name>/users/ (0600).
 */
export const userGrant: DeployStep = {
  id: 'user-grant',
  title: 'User access: a client certificate from the cluster CA, bound to a ClusterRole',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.need(GRANT_REQUEST);
    const { pki } = await kubernetesPki(ctx);
    const ca = pki.get(CA.kubernetes);
    // Issued first, in memory: a refusal (a lifetime past the CA's) leaves the cluster as it was.
    const pair = await issueUserCert(ca, request);
    const applied = await withClusterApi(ctx, async (api, via) => {
      const namespaceCreated = await ensureNamespace(api, request);
      const binding = await bind(api, request);
      if (namespaceCreated || binding !== 'unchanged') ctx.changed(via.name);
      return { namespaceCreated, binding, bindings: await listUserBindings(api, request.user) };
    });
    if (applied.namespaceCreated) ctx.log(`namespace ${request.namespace} created`);
    ctx.log(`${request.user}: ${request.role} in ${scopeOf(request)} (binding ${applied.binding})`);
    const saved = await saveUserRecord(ctx.clusterDir, request.user, {
      kubeconfig: userKubeconfig(ctx.inventory, pki.trust(CA.kubernetes), request.user, pair),
      certPem: pair.certPem,
    });
    data.set(GRANT_RESULT, { ...applied, ...saved, notAfter: userCertFacts(pair.certPem).notAfter });
  },
};
