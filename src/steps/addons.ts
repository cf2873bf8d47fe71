import { isKubesmithManaged } from '../components/addons/dashboard.js';
import { addonObjects } from '../components/addons/index.js';
import type { DeployContext, DeployStep } from '../engine/step.js';
import { withClusterApi } from '../hostlib/kube-api.js';
import { sectionedRead } from '../hostlib/sections.js';
import type { KubeApi, KubeObject } from '../kube/types.js';

const READY_TIMEOUT_MS = 300_000;

/**
 * The cluster addons (CoreDNS, metrics-server, NodeLocal DNSCache, the dashboard), each applied
 * server-side when enabled and deleted again when disabled; done when each enabled one is ready.
 */
export const addons: DeployStep = {
  id: 'addons',
  title:
    'Addons: CoreDNS, metrics-server, NodeLocal DNSCache, dashboard (enabled ones applied and ready, disabled ones removed)',
  onDeployMachine: true,
  async run(ctx) {
    const all = addonObjects(ctx.inventory, { upstream: await corednsUpstream(ctx) });
    for (const addon of all.filter((a) => a.note && a.enabled)) ctx.log(`${addon.name}: ${addon.note}`);
    if (ctx.dryRun) {
      for (const addon of all) {
        ctx.log(
          `${addon.name}: would ${addon.enabled ? 'apply' : 'remove, where present,'} ${names(addon.objects)}`,
        );
        if (addon.obsolete?.length)
          ctx.log(`${addon.name}: would remove, where present, ${names(addon.obsolete)}`);
      }
      return;
    }
    await withClusterApi(ctx, async (api, via) => {
      for (const addon of all) {
        const changed = addon.enabled
          ? [...(await applied(api, addon.objects)), ...(await removed(api, addon.obsolete ?? []))]
          : await removed(api, addon.objects);
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

const resolvConf = sectionedRead([
  ['resolv', 'cat /etc/resolv.conf 2>/dev/null || true'],
  ['resolved', 'cat /run/systemd/resolve/resolv.conf 2>/dev/null || true'],
]);

const nameservers = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([key, value]) => key === 'nameserver' && value)
    .map(([, value]) => value!);

const isLoopback = (address: string) => address.startsWith('127.') || address === '::1';

/**
 * Where CoreDNS forwards names outside the cluster: the inventory's resolvers; else the nodes'
 * resolv.conf (read on the first master), unless it names only loopback resolvers, which a pod
 * cannot reach (CoreDNS would find itself in a loop and stop): then cluster names only, said so.
 */
export async function corednsUpstream(ctx: DeployContext): Promise<string[] | 'none' | undefined> {
  const configured = ctx.inventory.cluster.network.upstreamDns;
  if (configured.length) return configured;
  const via = ctx.hosts.find((h) => h.roles.includes('master'));
  if (!via) return undefined;
  const read = await ctx.conn(via.name).run(['sh', '-c', resolvConf.script], { signal: ctx.signal });
  const sections = resolvConf.parse(read.stdout);
  const own = nameservers(sections.get('resolv') ?? '');
  const resolved = nameservers(sections.get('resolved') ?? '');
  // kubelet hands pods systemd-resolved's own list where /etc/resolv.conf is its stub (steps/kube-node.ts).
  const used = own.length === 1 && own[0] === '127.0.0.53' && resolved.length ? resolved : own;
  if (used.length && !used.every(isLoopback)) return undefined;
  ctx.log(
    `coredns: ${via.name}'s resolv.conf names ${used.length ? `only loopback resolvers (${used.join(', ')})` : 'no resolver'}, which pods cannot reach: CoreDNS answers for cluster names only; set cluster.network.upstreamDns for the rest`,
  );
  return 'none';
}

const names = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');

async function applied(api: KubeApi, objects: KubeObject[]): Promise<string[]> {
  const results = await api.apply(objects);
  return results.filter((r) => r.action !== 'unchanged').map((r) => `${r.kind}/${r.name} ${r.action}`);
}

/**
 * Deletes an addon's objects, last first (the namespace-scoped ones before their RBAC). An object
 * rendered with kubesmith's managed-by label is deleted only where the live one carries it too.
 */
async function removed(api: KubeApi, objects: KubeObject[]): Promise<string[]> {
  const gone: string[] = [];
  for (const o of [...objects].reverse()) {
    const { name, namespace } = o.metadata;
    if (isKubesmithManaged(o) && !isKubesmithManaged(await api.get(o.apiVersion, o.kind, name, namespace)))
      continue;
    if (await api.delete(o.apiVersion, o.kind, name, namespace)) gone.push(`${o.kind}/${name} deleted`);
  }
  return gone;
}
