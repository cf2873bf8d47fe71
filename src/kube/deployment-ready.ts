import { OperationError } from '../errors.js';
import type { KubeHttp } from './http.js';
import { readIfExists } from './objects.js';
import { pollUntil, seconds } from './poll.js';
import { type Deployment, deploymentSchema } from './schemas.js';
import type { WaitOptions } from './types.js';
import { crashLoopWatch, podProblems } from './workload-pods.js';

/** Every replica is of the latest spec and available, no old one is left, and the controller has seen the spec. */
export function isDeploymentRolledOut(d: Deployment): boolean {
  const want = d.spec.replicas;
  const s = d.status;
  return (
    s.observedGeneration >= (d.metadata.generation ?? 0) &&
    s.updatedReplicas === want &&
    s.availableReplicas === want &&
    s.replicas === want
  );
}

function progress(d: Deployment | undefined): string {
  if (!d) return 'it does not exist';
  const s = d.status;
  if (s.observedGeneration < (d.metadata.generation ?? 0))
    return 'its controller has not seen its latest spec (is kube-controller-manager running?)';
  return `${s.availableReplicas} of ${d.spec.replicas} replicas available, ${s.updatedReplicas} updated`;
}

export async function waitDeploymentReady(
  http: KubeHttp,
  namespace: string,
  name: string,
  options: WaitOptions,
): Promise<void> {
  const path = await http.pathOf({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name });
  let last: Deployment | undefined;
  let crashLooping = false;
  const hopeless = crashLoopWatch(http);
  const ended = await pollUntil(async () => {
    last = await readIfExists(http, path, deploymentSchema, `Deployment ${namespace}/${name}`);
    if (last !== undefined && isDeploymentRolledOut(last)) return true;
    crashLooping =
      last !== undefined &&
      (await hopeless({ kind: 'Deployment', namespace, name, matchLabels: last.spec.selector.matchLabels }));
    return crashLooping;
  }, options);
  if (ended && !crashLooping) return;
  const problems = last
    ? await podProblems(http, {
        kind: 'Deployment',
        namespace,
        name,
        matchLabels: last.spec.selector.matchLabels,
      }).catch((error: Error) => [`its pods could not be read: ${error.message}`])
    : [];
  throw new OperationError(
    [
      `Deployment ${namespace}/${name} not ready after ${seconds(options.timeoutMs)}: ${progress(last)}`,
      ...problems,
    ].join('\n  '),
    `kubectl -n ${namespace} describe deployment ${name}`,
  );
}
