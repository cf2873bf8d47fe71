import type { HostSpec } from '../inventory/schema.js';
import type { NodeVersion } from '../kube/node-versions.js';
import { versionParts } from './plan.js';

/** How many minors a kubelet may trail the apiserver (the version-skew policy since 1.28). */
const KUBELET_SKEW = 3;

export interface UpgradeVerdict {
  /** Why the upgrade must not start: each names the host or component and what to do. */
  problems: string[];
  /** The inventory's hosts whose kubelet is not at the target yet, in inventory order. */
  pending: string[];
  /** Node objects no inventory host names: left as they are. */
  strangers: string[];
}

/**
 * Whether the cluster as the API reports it may go to `to`: every apiserver at most one minor
 * below it and not above it, every inventory host registered, no kubelet above the target nor
 * more than three minors below it. A host is pending while its kubelet is not at the target or
 * an upgrade it began is unfinished (cordoned, not uncordoned yet): a re-run resumes with it.
 */
export function judgeUpgrade(
  hosts: readonly HostSpec[],
  apiservers: ReadonlyMap<string, string>,
  nodes: readonly NodeVersion[],
  to: string,
): UpgradeVerdict {
  const target = versionParts(to)!;
  const problems: string[] = [];
  for (const [master, version] of apiservers) {
    const api = versionParts(version);
    if (!api)
      problems.push(`${master}: its apiserver reports version '${version}', not one kubesmith can compare`);
    else if (api[1] < target[1] - 1 || api[0] !== target[0])
      problems.push(
        `${master}: its apiserver runs ${version}, more than one minor below ${to}; upgrade one minor at a time`,
      );
    else if (api[1] > target[1] || (api[1] === target[1] && api[2] > target[2]))
      problems.push(`${master}: its apiserver runs ${version}, above ${to}: kubesmith does not downgrade`);
  }
  const pending: string[] = [];
  for (const host of hosts) {
    const node = nodes.find((n) => n.name === host.name);
    const kubelet = node?.kubeletVersion && versionParts(node.kubeletVersion);
    if (!node) {
      problems.push(
        `${host.name} has no Node object: it is not in the cluster yet (kubesmith add-node, or setup, first)`,
      );
      continue;
    }
    if (!kubelet) problems.push(`${host.name}: its kubelet reports no version kubesmith can compare`);
    else if (kubelet[1] > target[1] || (kubelet[1] === target[1] && kubelet[2] > target[2]))
      problems.push(
        `${host.name}: its kubelet runs ${node.kubeletVersion}, above ${to}: kubesmith does not downgrade`,
      );
    else if (kubelet[1] < target[1] - KUBELET_SKEW)
      problems.push(
        `${host.name}: its kubelet runs ${node.kubeletVersion}, more than ${KUBELET_SKEW} minors below ${to}, which the version-skew policy does not allow; upgrade it first`,
      );
    if (node.kubeletVersion !== `v${to}` || node.upgradingTo !== undefined) pending.push(host.name);
  }
  const strangers = nodes.map((n) => n.name).filter((n) => !hosts.some((h) => h.name === n));
  return { problems, pending, strangers };
}
