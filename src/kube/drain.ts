import { z } from 'zod';
import { OperationError } from '../errors.js';
import type { KubeHttp } from './http.js';
import { pollUntil, seconds } from './poll.js';
import { expectOk, readOk } from './responses.js';
import type { WaitOptions } from './types.js';

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

const drainPodSchema = z
  .object({
    metadata: z
      .object({
        name: z.string(),
        namespace: z.string(),
        annotations: z.record(z.string(), z.string()).optional(),
        ownerReferences: z
          .array(z.object({ kind: z.string(), name: z.string(), controller: z.boolean().optional() }).loose())
          .optional(),
      })
      .loose(),
    spec: z.object({ nodeName: z.string().optional() }).loose(),
    status: z.object({ phase: z.string().optional() }).loose().prefault({}),
  })
  .loose();

export interface DrainPod {
  namespace: string;
  name: string;
  node: string;
}

/** What a drain does with each pod on the nodes, as `kubectl drain` sorts them. */
export interface DrainPlan {
  /** Recreated elsewhere by their controllers: evicted, so PodDisruptionBudgets are respected. */
  evict: DrainPod[];
  /** No controller would recreate them: lost, so a drain refuses them unless forced. */
  unmanaged: DrainPod[];
  /** DaemonSet pods and static (mirror) pods stay until their node goes. */
  stay: DrainPod[];
}

export const podLabel = (p: DrainPod) => `${p.namespace}/${p.name} (${p.node})`;

export function drainPlan(items: readonly unknown[]): DrainPlan {
  const plan: DrainPlan = { evict: [], unmanaged: [], stay: [] };
  for (const item of items) {
    const pod = drainPodSchema.parse(item);
    const ref = { namespace: pod.metadata.namespace, name: pod.metadata.name, node: pod.spec.nodeName ?? '' };
    const controller = pod.metadata.ownerReferences?.find((o) => o.controller);
    const finished = pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
    if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined || controller?.kind === 'DaemonSet')
      plan.stay.push(ref);
    else if (controller || finished) plan.evict.push(ref);
    else plan.unmanaged.push(ref);
  }
  return plan;
}

/** Every pod bound to one of the nodes, read with a field selector per node. */
export async function podsOn(http: KubeHttp, nodes: readonly string[]): Promise<DrainPlan> {
  const items: unknown[] = [];
  for (const node of nodes) {
    const response = await http.send({
      method: 'GET',
      path: '/api/v1/pods',
      query: { fieldSelector: `spec.nodeName=${node}` },
    });
    items.push(...readOk(z.object({ items: z.array(z.unknown()) }), response, `list pods on ${node}`).items);
  }
  return drainPlan(items);
}

/** Marks the node unschedulable; whether it was schedulable before. */
export async function cordon(http: KubeHttp, node: string): Promise<boolean> {
  const path = `/api/v1/nodes/${encodeURIComponent(node)}`;
  const response = await http.send({ method: 'GET', path });
  // No Node object (a kubelet that never registered, an earlier run deleted it): nothing to cordon.
  if (response.status === 404) return false;
  const current = readOk(
    z.object({ spec: z.object({ unschedulable: z.boolean().optional() }).loose().prefault({}) }).loose(),
    response,
    `read node ${node}`,
  );
  if (current.spec.unschedulable) return false;
  const body = { contentType: 'application/merge-patch+json', text: '{"spec":{"unschedulable":true}}' };
  expectOk(await http.send({ method: 'PATCH', path, body }), `cordon ${node}`);
  return true;
}

const podPath = (p: DrainPod) =>
  `/api/v1/namespaces/${encodeURIComponent(p.namespace)}/pods/${encodeURIComponent(p.name)}`;

/** Asks the API to evict the pod: 'blocked' with the reason when a PodDisruptionBudget does not allow it now. */
async function evict(http: KubeHttp, pod: DrainPod): Promise<{ done: true } | { done: false; why: string }> {
  const eviction = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod.name, namespace: pod.namespace },
  };
  const response = await http.send({
    method: 'POST',
    path: `${podPath(pod)}/eviction`,
    body: { contentType: 'application/json', text: JSON.stringify(eviction) },
  });
  if (response.status === 404) return { done: true };
  if (response.status === 429) return { done: false, why: statusMessage(response.body) };
  // Its namespace is being deleted (no eviction can be created there): the pod goes with it.
  if (response.status === 403 && namespaceTerminating(response.body)) {
    await deletePod(http, pod);
    return { done: true };
  }
  expectOk(response, `evict ${podLabel(pod)}`);
  return { done: true };
}

const causesSchema = z
  .object({ details: z.object({ causes: z.array(z.object({ reason: z.string() }).loose()) }).loose() })
  .loose();

function parsedBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return {};
  }
}

function namespaceTerminating(body: string): boolean {
  const parsed = causesSchema.safeParse(parsedBody(body));
  return parsed.success && parsed.data.details.causes.some((c) => c.reason === 'NamespaceTerminating');
}

function statusMessage(body: string): string {
  const parsed = z
    .object({ message: z.string() })
    .loose()
    .safeParse(JSON.parse(body || '{}'));
  return parsed.success ? parsed.data.message : 'too many requests';
}

export interface EvictOptions extends WaitOptions {
  /** At the timeout, delete the pods still blocked instead of failing. */
  force: boolean;
}

/**
 * Evicts the pods, asking again every second for those a PodDisruptionBudget blocks, until all
 * are evicted or the timeout: then it fails naming each blocked pod and why, or with force
 * deletes them. Returns the pods it had to delete.
 */
export async function evictAll(
  http: KubeHttp,
  pods: readonly DrainPod[],
  options: EvictOptions,
): Promise<DrainPod[]> {
  let blocked = new Map<DrainPod, string>(pods.map((p) => [p, '']));
  const evicted = await pollUntil(async () => {
    const next = new Map<DrainPod, string>();
    for (const pod of blocked.keys()) {
      const result = await evict(http, pod);
      if (!result.done) next.set(pod, result.why);
    }
    blocked = next;
    return blocked.size === 0;
  }, options);
  if (evicted) return [];
  const list = [...blocked].map(([pod, why]) => `  ${podLabel(pod)}: ${why}`).join('\n');
  if (!options.force)
    throw new OperationError(
      `drain blocked after ${seconds(options.timeoutMs)}; these pods cannot be evicted yet:\n${list}`,
      'their PodDisruptionBudgets allow no disruption now: scale the workloads up, or wait longer (--drain-timeout), or delete them anyway (--force); the nodes stay cordoned until then (kubectl uncordon to undo)',
    );
  for (const pod of blocked.keys()) await deletePod(http, pod);
  return [...blocked.keys()];
}

export async function deletePod(http: KubeHttp, pod: DrainPod): Promise<void> {
  const response = await http.send({ method: 'DELETE', path: podPath(pod) });
  if (response.status !== 404) expectOk(response, `delete pod ${podLabel(pod)}`);
}

/** Waits until none of the pods is left on the nodes (terminated, or rescheduled under a new name). */
export async function waitPodsGone(
  http: KubeHttp,
  pods: readonly DrainPod[],
  options: WaitOptions,
): Promise<void> {
  let left: DrainPod[] = [...pods];
  const nodes = [...new Set(pods.map((p) => p.node))];
  const gone = await pollUntil(async () => {
    const plan = await podsOn(http, nodes);
    const present = new Set([...plan.evict, ...plan.unmanaged].map(podLabel));
    left = left.filter((p) => present.has(podLabel(p)));
    return left.length === 0;
  }, options);
  if (!gone)
    throw new OperationError(
      `pods still terminating after ${seconds(options.timeoutMs)}: ${left.map(podLabel).join(', ')}`,
      'their grace periods may be long, or the kubelet on the node stopped answering: look at `kubectl describe pod`',
    );
}
