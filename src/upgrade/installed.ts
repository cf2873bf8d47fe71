import type { Resource } from '../engine/resources.js';
import type { StepContext } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { versionParts } from './plan.js';

/**
 * The Kubernetes version a host's binaries were last installed at, written by kube-master and
 * kube-node beside the cluster marker. Read with the facts, so a run can refuse a downgrade
 * before it touches any host.
 */
export const INSTALLED_VERSION_FILE = '/etc/kubesmith/kubernetes-version';

const bare = (version: string) => version.trim().replace(/^v/, '');

/**
 * Records `version` once the step's binaries and services are in place (a step that failed
 * before leaves the old record, so going back to the previous inventory stays possible). A host
 * already recorded at it costs no command.
 */
export async function recordInstalled(ctx: StepContext, installed: string, version: string): Promise<void> {
  if (bare(installed) === bare(version)) return;
  const record: Resource = { kind: 'file', path: INSTALLED_VERSION_FILE, content: `${bare(version)}\n` };
  await ctx.apply([record]);
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
  return `${host} runs Kubernetes ${installed.trim()}, and the inventory asks for ${wanted}: kubesmith does not go back a minor version (the cluster's objects may already be stored in the newer form); set cluster.kubernetesVersion to ${installed.trim()} or newer. Only if nothing ever ran at ${installed.trim()} on ${host} (an upgrade that failed before its control plane came up), delete ${INSTALLED_VERSION_FILE} there and run again`;
}

/** The same check inside kube-master and kube-node, for runs without a host preflight (certs renew). */
export function refuseDowngrade(host: string, installed: string, wanted: string): void {
  const refusal = downgradeRefusal(host, installed, wanted);
  if (refusal) throw new OperationError(refusal);
}
