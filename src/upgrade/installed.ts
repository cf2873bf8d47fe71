import type { Resource } from '../engine/resources.js';
import { OperationError } from '../errors.js';
import { versionParts } from './plan.js';

/**
 * The Kubernetes version a host's binaries were last installed at, written by kube-master and
 * kube-node beside the cluster marker. Read with the facts, so a run can refuse a downgrade
 * before it touches any host.
 */
export const INSTALLED_VERSION_FILE = '/etc/kubesmith/kubernetes-version';

export function installedVersionResource(version: string): Resource {
  return { kind: 'file', path: INSTALLED_VERSION_FILE, content: `${version}\n` };
}

/**
 * Why installing `wanted` on a host that runs `installed` must not happen, or undefined.
 * Kubernetes goes back neither a minor (its objects in etcd may already be in a newer form) nor
 * a major; a patch back within the minor is allowed.
 */
export function downgradeRefusal(host: string, installed: string, wanted: string): string | undefined {
  const have = versionParts(installed);
  const want = versionParts(wanted);
  if (!have || !want) return undefined;
  if (want[0] > have[0] || (want[0] === have[0] && want[1] >= have[1])) return undefined;
  return `${host} runs Kubernetes ${installed.trim()}, and the inventory asks for ${wanted}: kubesmith does not go back a minor version (the cluster's objects may already be stored in the newer form); set cluster.kubernetesVersion to ${installed.trim()} or newer, or restore the whole cluster from a backup taken before the upgrade`;
}

/** The same check inside kube-master and kube-node, for runs without a host preflight (certs renew). */
export function refuseDowngrade(host: string, installed: string, wanted: string): void {
  const refusal = downgradeRefusal(host, installed, wanted);
  if (refusal) throw new OperationError(refusal);
}
