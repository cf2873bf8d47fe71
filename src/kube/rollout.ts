import type { KubeHttp } from './http.js';
import { expectOk } from './responses.js';

/**
 * Restarts a Deployment's pods the way `kubectl rollout restart` does (a changed template
 * annotation); false when there is no such Deployment.
 */
export async function restartDeployment(http: KubeHttp, namespace: string, name: string): Promise<boolean> {
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(name)}`;
  const patch = {
    spec: {
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
      },
    },
  };
  const response = await http.send({
    method: 'PATCH',
    path,
    body: { contentType: 'application/strategic-merge-patch+json', text: JSON.stringify(patch) },
  });
  if (response.status === 404) return false;
  expectOk(response, `restart deployment ${namespace}/${name}`);
  return true;
}
