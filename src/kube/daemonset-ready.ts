import { OperationError } from '../errors.js';
import type { KubeHttp } from './http.js';
import { readIfExists } from './objects.js';
import { describePod, isPodReady, latestWarnings } from './pod-diagnosis.js';
import { pollUntil, seconds } from './poll.js';
import { readOk } from './responses.js';
import { type DaemonSet, daemonSetSchema, eventSchema, listOf, podSchema } from './schemas.js';
import type { WaitOptions } from './types.js';

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

/** The workload whose pods are diagnosed: its selector, and its uid when it owns its pods itself. */
export interface PodOwner {
  kind: string;
  namespace?: string;
  name: string;
  matchLabels?: Record<string, string>;
  ownerUid?: string;
}

/** `pod (node): why` for each of a workload's pods that is not ready. */
export async function podProblems(http: KubeHttp, owner: PodOwner): Promise<string[]> {
  const namespace = owner.namespace;
  const selector = Object.entries(owner.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const pods = readOk(
    listOf(podSchema),
    await http.send({
      method: 'GET',
      path: await http.pathOf({ apiVersion: 'v1', kind: 'Pod', namespace }),
      query: { labelSelector: selector },
    }),
    `list the pods of ${owner.kind} ${namespace}/${owner.name}`,
  ).items.filter(
    (pod) =>
      (!owner.ownerUid || pod.metadata.ownerReferences?.some((o) => o.uid === owner.ownerUid)) &&
      !isPodReady(pod),
  );
  if (!pods.length) return [];
  const events = readOk(
    listOf(eventSchema),
    await http.send({
      method: 'GET',
      path: await http.pathOf({ apiVersion: 'v1', kind: 'Event', namespace }),
      query: { fieldSelector: 'type=Warning,involvedObject.kind=Pod' },
    }),
    `list the events in ${namespace}`,
  ).items;
  const warnings = latestWarnings(events);
  return pods.map((pod) => describePod(pod, warnings.get(pod.metadata.uid ?? '')));
}

export async function waitDaemonSetReady(
  http: KubeHttp,
  namespace: string,
  name: string,
  options: WaitOptions,
): Promise<void> {
  const path = await http.pathOf({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name });
  let last: DaemonSet | undefined;
  const ready = await pollUntil(async () => {
    last = await readIfExists(http, path, daemonSetSchema, `DaemonSet ${namespace}/${name}`);
    return last !== undefined && isRolledOut(last);
  }, options);
  if (ready) return;
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
      `DaemonSet ${namespace}/${name} not ready after ${seconds(options.timeoutMs)}: ${progress(last)}`,
      ...problems,
    ].join('\n  '),
    `kubectl -n ${namespace} describe daemonset ${name}`,
  );
}
