/**
 * A Kubernetes object as a manifest holds it: the fields every object has, the rest left open.
 * Structurally what a server-side apply takes.
 */
export interface NetworkObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  [key: string]: unknown;
}

/** The fields of a pod's container that the network plugins' patches touch. */
export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args?: string[];
  env?: EnvVar[];
  [key: string]: unknown;
}

/** A workload to wait for once the objects are applied. */
export interface WorkloadRef {
  kind: 'DaemonSet' | 'Deployment';
  namespace: string;
  name: string;
}
