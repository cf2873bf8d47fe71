import type { Duplex } from 'node:stream';
import type { DrainPlan, DrainPod, EvictOptions } from './drain.js';
import type { NodeVersion } from './node-versions.js';
import type { RestartableKind } from './rollout.js';

/** What the Kubernetes API client needs of a host connection: a raw byte pipe to a command run as root. */
export interface StreamOpener {
  openStream(argv: readonly string[]): Promise<{ stream: Duplex; stderr: () => string }>;
}

/** A Kubernetes object as sent and read: only the fields kubesmith relies on are typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface ApplyResult {
  kind: string;
  namespace?: string;
  name: string;
  action: 'created' | 'changed' | 'unchanged';
}

export interface NodeChanges {
  /** Every label kubesmith wants on the node: those it set before and no longer lists are removed, others' kept; null removes one. */
  labels?: Record<string, string | null>;
  /** Every taint kubesmith wants on the node: taints kubesmith set earlier and no longer wants are removed, others' kept. */
  taints?: Taint[];
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface KubeApi {
  /** Server-side apply, in the order given (field manager kubesmith, conflicts forced). */
  apply(objects: KubeObject[]): Promise<ApplyResult[]>;
  /** The object, or undefined when there is none. */
  get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
  /** Every object of a kind (in a namespace, or all namespaces), optionally by label selector. */
  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]>;
  /** Deletes the object; false when there was none. */
  delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<boolean>;
  /** Sets labels and kubesmith's taints on a node; whether anything changed. */
  patchNode(name: string, changes: NodeChanges): Promise<boolean>;
  waitDaemonSetReady(namespace: string, name: string, options: WaitOptions): Promise<void>;
  waitDeploymentReady(namespace: string, name: string, options: WaitOptions): Promise<void>;
  waitNodesReady(names: string[], options: WaitOptions): Promise<void>;
  /** The pods bound to the nodes, sorted as a drain treats them. */
  podsOn(nodes: readonly string[]): Promise<DrainPlan>;
  /** Marks a node unschedulable; whether it changed. */
  cordon(node: string): Promise<boolean>;
  /** Marks a node as being upgraded to the version and cordons it; whether it cordoned it. */
  startNodeUpgrade(node: string, version: string): Promise<boolean>;
  /** Drops the upgrade's marks; uncordons the node when the upgrade cordoned it (whether it did). */
  finishNodeUpgrade(node: string): Promise<boolean>;
  /** Every node's kubelet version, unfinished upgrade and readiness. */
  nodeVersions(): Promise<NodeVersion[]>;
  /** Waits until the node is Ready with its kubelet at the version (1.35.4). */
  waitNodeAt(node: string, version: string, options: WaitOptions): Promise<void>;
  /** Waits until every running pod bound to the node is Ready. */
  waitPodsReadyOn(node: string, options: WaitOptions): Promise<void>;
  /** Evicts the pods (PodDisruptionBudgets respected, see kube/drain.ts); the pods it deleted with force. */
  evictAll(pods: readonly DrainPod[], options: EvictOptions): Promise<DrainPod[]>;
  deletePod(pod: DrainPod): Promise<void>;
  waitPodsGone(pods: readonly DrainPod[], options: WaitOptions): Promise<void>;
  /** `kubectl rollout restart` of a Deployment or DaemonSet; false when there is none. */
  restartWorkload(kind: RestartableKind, namespace: string, name: string): Promise<boolean>;
  /** A GET of any path (e.g. /readyz, a pod's proxy): its status and body, whatever the status. */
  rawGet(path: string, query?: Record<string, string>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}
