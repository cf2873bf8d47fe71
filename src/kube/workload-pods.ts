import type { KubeHttp } from './http.js';
import { describePod, isCrashLooping, isPodReady, latestWarnings } from './pod-diagnosis.js';
import { readOk } from './responses.js';
import { eventSchema, listOf, type Pod, podSchema } from './schemas.js';

/** The workload whose pods are diagnosed: its selector, and its uid when it owns its pods itself. */
export interface PodOwner {
  kind: string;
  namespace?: string;
  name: string;
  matchLabels?: Record<string, string>;
  ownerUid?: string;
}

/** How often a wait looks at the pods themselves (each look lists them). */
const POD_LOOK_INTERVAL_MS = 10_000;

async function notReadyPods(http: KubeHttp, owner: PodOwner): Promise<Pod[]> {
  const selector = Object.entries(owner.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  return readOk(
    listOf(podSchema),
    await http.send({
      method: 'GET',
      path: await http.pathOf({ apiVersion: 'v1', kind: 'Pod', namespace: owner.namespace }),
      query: { labelSelector: selector },
    }),
    `list the pods of ${owner.kind} ${owner.namespace}/${owner.name}`,
  ).items.filter(
    (pod) =>
      (!owner.ownerUid || pod.metadata.ownerReferences?.some((o) => o.uid === owner.ownerUid)) &&
      !isPodReady(pod),
  );
}

/** `pod (node): why` for each of a workload's pods that is not ready. */
export async function podProblems(http: KubeHttp, owner: PodOwner): Promise<string[]> {
  const pods = await notReadyPods(http, owner);
  if (!pods.length) return [];
  const events = readOk(
    listOf(eventSchema),
    await http.send({
      method: 'GET',
      path: await http.pathOf({ apiVersion: 'v1', kind: 'Event', namespace: owner.namespace }),
      query: { fieldSelector: 'type=Warning,involvedObject.kind=Pod' },
    }),
    `list the events in ${owner.namespace}`,
  ).items;
  const warnings = latestWarnings(events);
  return pods.map((pod) => describePod(pod, warnings.get(pod.metadata.uid ?? '')));
}

/**
 * For a wait: whether waiting longer is pointless because every pod that is not ready is in a
 * crash loop (restarted several times). Looks at the pods at most every 10 s.
 */
export function crashLoopWatch(http: KubeHttp): (owner: PodOwner) => Promise<boolean> {
  let lastLook = Date.now();
  return async (owner) => {
    if (Date.now() - lastLook < POD_LOOK_INTERVAL_MS) return false;
    lastLook = Date.now();
    const pods = await notReadyPods(http, owner);
    return pods.length > 0 && pods.every((pod) => isCrashLooping(pod));
  };
}
