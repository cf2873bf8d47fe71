import { nodeTaints } from '../components/kubernetes/kubelet.js';
import type { DeployStep } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { pollUntil } from '../kube/poll.js';
import type { NodeChanges } from '../kube/types.js';

const REGISTER_TIMEOUT_MS = 120_000;
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

/**
 * The labels and taints the inventory gives a node. node-role labels are set here, through the
 * API: NodeRestriction forbids kubelets to set them on themselves.
 */
export function nodeChanges(host: HostSpec, inv: Inventory): NodeChanges {
  return {
    labels: { ...host.labels, ...(host.roles.includes('master') ? { [CONTROL_PLANE_LABEL]: '' } : {}) },
    taints: nodeTaints(host, inv),
  };
}

/** After kubelets start: every node registered, then its labels and taints as the inventory says. */
export const kubeNodeConfig: DeployStep = {
  id: 'kube-node-config',
  title: 'Node objects: every kubelet registered; labels and taints from the inventory',
  onDeployMachine: true,
  async run(ctx) {
    if (ctx.dryRun) {
      for (const host of ctx.hosts) {
        const { labels, taints } = nodeChanges(host, ctx.inventory);
        ctx.log(
          `${host.name}: would set labels {${Object.keys(labels ?? {}).join(', ')}} and taints [${(taints ?? []).map((t) => `${t.key}:${t.effect}`).join(', ')}]`,
        );
      }
      return;
    }
    await withClusterApi(ctx, async (api) => {
      const names = ctx.hosts.map((h) => h.name);
      let missing = names;
      const registered = await pollUntil(
        async () => {
          const nodes = new Set((await api.list('v1', 'Node')).map((n) => n.metadata.name));
          missing = names.filter((n) => !nodes.has(n));
          return missing.length === 0;
        },
        { timeoutMs: REGISTER_TIMEOUT_MS, signal: ctx.signal },
      );
      if (!registered)
        throw new OperationError(
          `not registered after ${REGISTER_TIMEOUT_MS / 1000} s: ${missing.join(', ')}`,
          'journalctl -u kubelet on them says why (certificates, the local balancer on 127.0.0.1:6443)',
        );
      for (const host of ctx.hosts) {
        if (await api.patchNode(host.name, nodeChanges(host, ctx.inventory))) {
          ctx.changed(host.name);
          ctx.log(`${host.name}: labels and taints updated`);
        }
      }
    });
  },
};
