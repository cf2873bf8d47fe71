import { z } from 'zod';
import { pollUntil } from '../kube/poll.js';
import type { KubeApi, KubeObject } from '../kube/types.js';
import type { EtcdAnswers } from './checks-etcd.js';
import type { HostProbe } from './host-probes.js';

/** What verify read of the API: raw objects, judged later (and kept as test fixtures). */
export interface ApiAnswers {
  /** When they were read (leases are judged against it). */
  readAt: string;
  nodes: unknown[];
  pods: unknown[];
  daemonSets: unknown[];
  deployments: unknown[];
  leases: unknown[];
  apiServices: unknown[];
  /** GET /apis/metrics.k8s.io/v1beta1/nodes. */
  metricsNodes: { status: number; body: string };
}

/** Everything the checks judge: the API's objects, each host's probe answers, etcd's own views. */
export interface ClusterSnapshot {
  api?: ApiAnswers;
  /** Why the API could not be read. */
  apiError?: string;
  hosts: HostProbe[];
  etcd?: EtcdAnswers;
}

const objects = z.array(z.unknown());
export const clusterSnapshotSchema = z.object({
  api: z
    .object({
      readAt: z.string(),
      nodes: objects,
      pods: objects,
      daemonSets: objects,
      deployments: objects,
      leases: objects,
      apiServices: objects,
      metricsNodes: z.object({ status: z.number(), body: z.string() }),
    })
    .optional(),
  apiError: z.string().optional(),
  hosts: z.array(
    z.object({
      host: z.string(),
      sections: z.record(z.string(), z.string()).optional(),
      error: z.string().optional(),
    }),
  ),
  etcd: z
    .object({
      via: z.string(),
      health: z.string(),
      status: z.string(),
      members: z.string(),
      alarms: z.string(),
    })
    .optional(),
}) satisfies z.ZodType<ClusterSnapshot>;

/** managedFields say who set what: nothing a check reads, most of a saved snapshot's size. */
function withoutManagedFields(object: KubeObject): KubeObject {
  const { managedFields: _, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/**
 * The API's side of a snapshot: nodes, and the workloads, pods and leases of the given
 * namespaces. One request at a time: each one is a channel of the master's SSH connection.
 */
export async function readApi(api: KubeApi, namespaces: readonly string[]): Promise<ApiAnswers> {
  const list = async (apiVersion: string, kind: string, namespace?: string) =>
    (await api.list(apiVersion, kind, namespace)).map(withoutManagedFields);
  const inNamespaces = async (apiVersion: string, kind: string) => {
    const all: unknown[] = [];
    for (const ns of namespaces) all.push(...(await list(apiVersion, kind, ns)));
    return all;
  };
  return {
    readAt: new Date().toISOString(),
    nodes: await list('v1', 'Node'),
    pods: await inNamespaces('v1', 'Pod'),
    daemonSets: await inNamespaces('apps/v1', 'DaemonSet'),
    deployments: await inNamespaces('apps/v1', 'Deployment'),
    leases: await list('coordination.k8s.io/v1', 'Lease', 'kube-system'),
    apiServices: await list('apiregistration.k8s.io/v1', 'APIService'),
    metricsNodes: await api.rawGet('/apis/metrics.k8s.io/v1beta1/nodes'),
  };
}

const metricsNamesSchema = z.object({
  items: z.array(z.object({ metadata: z.object({ name: z.string() }) })),
});

/**
 * metrics-server answers for a node only after its first scrapes, up to a minute after it is
 * ready: right after setup, wait (bounded) until the metrics API names every node, so the check
 * judges a settled cluster. Returns at once on a cluster that has settled.
 */
export async function awaitNodeMetrics(
  api: KubeApi,
  nodeNames: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  await pollUntil(async () => {
    const answer = await api.rawGet('/apis/metrics.k8s.io/v1beta1/nodes');
    if (answer.status !== 200) return false;
    try {
      const reported = new Set(
        metricsNamesSchema.parse(JSON.parse(answer.body)).items.map((i) => i.metadata.name),
      );
      return nodeNames.every((n) => reported.has(n));
    } catch {
      return false;
    }
  }, options);
}
