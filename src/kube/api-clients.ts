import { pollUntil } from './poll.js';
import type { RestartableKind } from './rollout.js';
import type { KubeApi, KubeObject, WaitOptions } from './types.js';

/** A workload whose pods get a service-account token, and with it ca.crt, when they start. */
export interface ApiClientWorkload {
  kind: RestartableKind;
  namespace: string;
  name: string;
  /** A restart replaces its pods (not a paused Deployment, not an OnDelete update strategy). */
  rolls: boolean;
  /** Every replica was ready before the restart: only then is waiting for it meaningful. */
  readyBefore: boolean;
}

const KINDS: readonly RestartableKind[] = ['Deployment', 'DaemonSet', 'StatefulSet'];

interface WorkloadFields {
  spec?: {
    replicas?: number;
    paused?: boolean;
    updateStrategy?: { type?: string };
    template?: { spec?: { automountServiceAccountToken?: boolean } };
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    observedGeneration?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

function describe(kind: RestartableKind, object: KubeObject): ApiClientWorkload | undefined {
  const { spec, status } = object as KubeObject & WorkloadFields;
  if (spec?.template?.spec?.automountServiceAccountToken === false) return undefined;
  const wanted = kind === 'DaemonSet' ? (status?.desiredNumberScheduled ?? 0) : (spec?.replicas ?? 1);
  if (wanted === 0) return undefined;
  const ready =
    kind === 'DaemonSet'
      ? status?.numberReady
      : kind === 'Deployment'
        ? status?.availableReplicas
        : status?.readyReplicas;
  return {
    kind,
    namespace: object.metadata.namespace!,
    name: object.metadata.name,
    rolls: kind === 'Deployment' ? !spec?.paused : spec?.updateStrategy?.type !== 'OnDelete',
    readyBefore: (ready ?? 0) >= wanted,
  };
}

/** Every Deployment, DaemonSet and StatefulSet with pods that mount a token, those being deleted left out. */
export async function apiClientWorkloads(api: KubeApi): Promise<ApiClientWorkload[]> {
  const terminating = new Set(
    (await api.list('v1', 'Namespace'))
      .filter((ns) => (ns.status as { phase?: string } | undefined)?.phase === 'Terminating')
      .map((ns) => ns.metadata.name),
  );
  const found: ApiClientWorkload[] = [];
  for (const kind of KINDS)
    for (const object of await api.list('apps/v1', kind)) {
      if (object.metadata.deletionTimestamp || terminating.has(object.metadata.namespace!)) continue;
      const workload = describe(kind, object);
      if (workload) found.push(workload);
    }
  return found;
}

/** Pods with a token that no restartable workload owns (bare pods, Jobs' pods): they keep the ca.crt they started with. */
export async function unownedApiClientPods(api: KubeApi): Promise<string[]> {
  const owned = new Set(['ReplicaSet', 'DaemonSet', 'StatefulSet']);
  return (await api.list('v1', 'Pod'))
    .filter((pod) => {
      const spec = pod.spec as { automountServiceAccountToken?: boolean } | undefined;
      const owners = (pod.metadata.ownerReferences ?? []) as { kind: string }[];
      return spec?.automountServiceAccountToken !== false && !owners.some((o) => owned.has(o.kind));
    })
    .map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
}

/** Waits until a StatefulSet runs its latest revision on every replica, each ready. */
export async function waitStatefulSetRolledOut(
  api: KubeApi,
  namespace: string,
  name: string,
  options: WaitOptions,
): Promise<boolean> {
  return pollUntil(async () => {
    const object = await api.get('apps/v1', 'StatefulSet', name, namespace);
    if (!object) return true;
    const { spec, status } = object as KubeObject & WorkloadFields;
    const replicas = spec?.replicas ?? 1;
    return (
      (status?.observedGeneration ?? 0) >= ((object.metadata.generation as number | undefined) ?? 0) &&
      status?.updatedReplicas === replicas &&
      status?.readyReplicas === replicas &&
      status?.currentRevision === status?.updateRevision
    );
  }, options);
}
