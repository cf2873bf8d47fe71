import type { KubeHttp } from './http.js';
import { expectOk } from './responses.js';

/** The workloads `kubectl rollout restart` knows that kubesmith restarts. */
export type RestartableKind = 'Deployment' | 'DaemonSet' | 'StatefulSet';

const RESOURCE: Record<RestartableKind, string> = {
  Deployment: 'deployments',
  DaemonSet: 'daemonsets',
  StatefulSet: 'statefulsets',
};

/**
 * Restarts a workload's pods the way `kubectl rollout restart` does (a changed template
 * annotation); false when there is no such workload.
 */
export async function restartWorkload(
  http: KubeHttp,
  kind: RestartableKind,
  namespace: string,
  name: string,
): Promise<boolean> {
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${RESOURCE[kind]}/${encodeURIComponent(name)}`;
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
  expectOk(response, `restart ${kind} ${namespace}/${name}`);
  return true;
}
