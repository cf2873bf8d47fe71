import { addonObjects } from '../components/addons/index.js';
import type { DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import type { KubeApi, KubeObject } from '../kube/types.js';

const READY_TIMEOUT_MS = 300_000;

/**
 * The cluster addons (CoreDNS, metrics-server, NodeLocal DNSCache), each applied server-side
 * when enabled and deleted again when disabled; done when each enabled one is ready.
 */
export const addons: DeployStep = {
  id: 'addons',
  title:
    'Addons: CoreDNS, metrics-server, NodeLocal DNSCache (enabled ones applied and ready, disabled ones removed)',
  onDeployMachine: true,
  async run(ctx) {
    const all = addonObjects(ctx.inventory);
    for (const addon of all.filter((a) => a.note && a.enabled)) ctx.log(`${addon.name}: ${addon.note}`);
    if (ctx.dryRun) {
      for (const addon of all)
        ctx.log(
          `${addon.name}: would ${addon.enabled ? 'apply' : 'remove, where present,'} ${addon.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
        );
      return;
    }
    await withClusterApi(ctx, async (api, via) => {
      for (const addon of all) {
        const changed = addon.enabled ? await applied(api, addon.objects) : await removed(api, addon.objects);
        if (changed.length) {
          ctx.changed(via.name);
          ctx.log(`${addon.name}: ${changed.join(', ')}`);
        }
      }
      for (const addon of all.filter((a) => a.enabled && a.wait)) {
        const { kind, namespace, name } = addon.wait!;
        const options = { timeoutMs: READY_TIMEOUT_MS, signal: ctx.signal };
        if (kind === 'DaemonSet') await api.waitDaemonSetReady(namespace, name, options);
        else await api.waitDeploymentReady(namespace, name, options);
        ctx.log(`${addon.name} ready`);
      }
    });
  },
};

async function applied(api: KubeApi, objects: KubeObject[]): Promise<string[]> {
  const results = await api.apply(objects);
  return results.filter((r) => r.action !== 'unchanged').map((r) => `${r.kind}/${r.name} ${r.action}`);
}

/** Deletes an addon's objects, last first (the namespace-scoped ones before their RBAC). */
async function removed(api: KubeApi, objects: KubeObject[]): Promise<string[]> {
  const gone: string[] = [];
  for (const o of [...objects].reverse())
    if (await api.delete(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace))
      gone.push(`${o.kind}/${o.metadata.name} deleted`);
  return gone;
}
