import { OperationError } from '../errors.js';
import type { KubeHttp } from './http.js';
import { readIfExists } from './objects.js';
import { pollUntil, seconds } from './poll.js';
import { type DaemonSet, daemonSetSchema } from './schemas.js';
import type { WaitOptions } from './types.js';
import { crashLoopWatch, podProblems } from './workload-pods.js';

/** Every node it should run on runs the current version, ready, and its controller has seen the latest spec. */
export function isRolledOut(ds: DaemonSet): boolean {
  const s = ds.status;
  return (
    s.desiredNumberScheduled > 0 &&
    s.numberReady === s.desiredNumberScheduled &&
    s.updatedNumberScheduled === s.desiredNumberScheduled &&
    s.observedGeneration >= (ds.metadata.generation ?? 0)
  );
}

function progress(ds: DaemonSet | undefined): string {
  if (!ds) return 'it does not exist';
  const s = ds.status;
  if (s.observedGeneration < (ds.metadata.generation ?? 0))
    return 'its controller has not seen its latest spec (is kube-controller-manager running?)';
  if (s.desiredNumberScheduled === 0)
    return 'no node is to run it (is kube-controller-manager running? do its node selector or tolerations exclude every node?)';
  return `${s.numberReady} of ${s.desiredNumberScheduled} pods ready, ${s.updatedNumberScheduled} updated`;
}

export async function waitDaemonSetReady(
  http: KubeHttp,
  namespace: string,
  name: string,
  options: WaitOptions,
): Promise<void> {
  const path = await http.pathOf({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name });
  let last: DaemonSet | undefined;
  let crashLooping = false;
  const hopeless = crashLoopWatch(http);
  const ended = await pollUntil(async () => {
    last = await readIfExists(http, path, daemonSetSchema, `DaemonSet ${namespace}/${name}`);
    if (last !== undefined && isRolledOut(last)) return true;
    crashLooping =
      last !== undefined &&
      (await hopeless({
        kind: 'DaemonSet',
        namespace,
        name,
        matchLabels: last.spec.selector.matchLabels,
        ownerUid: last.metadata.uid,
      }));
    return crashLooping;
  }, options);
  if (ended && !crashLooping) return;
  const problems = last
    ? await podProblems(http, {
        kind: 'DaemonSet',
        namespace,
        name,
        matchLabels: last.spec.selector.matchLabels,
        ownerUid: last.metadata.uid,
      }).catch((error: Error) => [`its pods could not be read: ${error.message}`])
    : [];
  throw new OperationError(
    [
      `DaemonSet ${namespace}/${name} not ready ${crashLooping ? 'and every pod not ready is crash-looping' : `after ${seconds(options.timeoutMs)}`}: ${progress(last)}`,
      ...problems,
    ].join('\n  '),
    `kubectl -n ${namespace} describe daemonset ${name}`,
  );
}
