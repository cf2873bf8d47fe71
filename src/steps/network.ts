import { CALICO_DAEMONSET, CALICO_LAB_NOTE } from '../components/network/calico.js';
import { FLANNEL_DAEMONSET } from '../components/network/flannel.js';
import { networkObjects } from '../components/network/index.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import type { Inventory } from '../inventory/schema.js';

const DAEMONSET_TIMEOUT_MS = 300_000;
const NODES_TIMEOUT_MS = 180_000;

function networkOptions(inv: Inventory) {
  const net = inv.cluster.network;
  return {
    ...(net.mtu ? { mtu: net.mtu } : {}),
    ...(net.interface ? { interface: net.interface } : {}),
    flannel: net.flannel,
    calico: net.calico,
  };
}

/**
 * The network plugin from its upstream manifest, patched as parsed objects, applied server-side
 * (field manager kubesmith); done when its DaemonSet is ready on every node and every node Ready.
 */
export const network: DeployStep = {
  id: 'network',
  title: 'Pod network: the CNI plugin applied through the API, ready on every node',
  onDeployMachine: true,
  async run(ctx) {
    const inv = ctx.inventory;
    const objects = networkObjects(inv, networkOptions(inv));
    const plugin = inv.cluster.network.plugin;
    if (plugin === 'calico') ctx.log(CALICO_LAB_NOTE);
    if (ctx.dryRun) {
      ctx.log(`${plugin}: would apply ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
      return;
    }
    const daemonSet = plugin === 'calico' ? CALICO_DAEMONSET : FLANNEL_DAEMONSET;
    await withClusterApi(ctx, async (api, via) => {
      const results = await api.apply(objects);
      const changed = results.filter((r) => r.action !== 'unchanged');
      if (changed.length) {
        ctx.changed(via.name);
        ctx.log(`${plugin}: ${changed.map((r) => `${r.kind}/${r.name} ${r.action}`).join(', ')}`);
      }
      await api.waitDaemonSetReady(daemonSet.namespace, daemonSet.name, {
        timeoutMs: DAEMONSET_TIMEOUT_MS,
        signal: ctx.signal,
      });
      await api.waitNodesReady(
        ctx.hosts.map((h) => h.name),
        { timeoutMs: NODES_TIMEOUT_MS, signal: ctx.signal },
      );
      ctx.log(`${plugin} ready; ${ctx.hosts.length} node(s) Ready`);
    });
  },
};
