import { z } from 'zod';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import { nodeSchema } from '../kube/schemas.js';
import { nodeChanges } from '../steps/kube-node-config.js';
import { type HostProbe, inactiveUnits, isKubeHost, splitHttp } from './host-probes.js';
import type { Check, CheckStatus } from './report.js';

const nodeWithInfo = nodeSchema.and(
  z.object({
    status: z
      .object({ nodeInfo: z.object({ kubeletVersion: z.string() }).loose().optional() })
      .loose()
      .prefault({}),
  }),
);
type Node = z.output<typeof nodeWithInfo>;

const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

function verdict(
  id: string,
  problems: string[],
  fine: string,
  evidence: string[],
  hint: string,
  status: CheckStatus = 'fail',
): Check {
  return {
    id,
    area: 'nodes',
    status: problems.length ? status : 'ok',
    summary: problems.length ? problems.join('; ') : fine,
    evidence: problems.length ? problems : evidence,
    ...(problems.length ? { hint } : {}),
  };
}

function readyCheck(hosts: HostSpec[], nodes: Map<string, Node>): Check[] {
  const missing = hosts.filter((h) => !nodes.has(h.name)).map((h) => `${h.name} not registered`);
  const notReady: string[] = [];
  const pressure: string[] = [];
  for (const host of hosts) {
    const node = nodes.get(host.name);
    if (!node) continue;
    const ready = node.status.conditions.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True')
      notReady.push(
        `${host.name} ${ready ? `Ready=${ready.status}` : 'has no Ready condition'}${ready?.reason ? ` (${ready.reason}: ${ready.message ?? ''})` : ''}`,
      );
    for (const c of node.status.conditions)
      if (PRESSURE.includes(c.type) && c.status === 'True')
        pressure.push(`${host.name} ${c.type}: ${c.message ?? ''}`);
  }
  const hint = 'on that host: systemctl status kubelet containerd; journalctl -u kubelet -n 50';
  return [
    verdict(
      'nodes/ready',
      [...missing, ...notReady],
      `${hosts.length} node(s) registered and Ready`,
      hosts.map((h) => `${h.name}: Ready`),
      hint,
    ),
    verdict(
      'nodes/conditions',
      pressure,
      'no node under pressure',
      [],
      'free memory, disk or PIDs on that host',
      'warn',
    ),
  ];
}

function versionCheck(hosts: HostSpec[], nodes: Map<string, Node>, inv: Inventory): Check {
  const want = `v${inv.cluster.kubernetesVersion}`;
  const seen = hosts.flatMap((h) => {
    const version = nodes.get(h.name)?.status.nodeInfo?.kubeletVersion;
    return version ? [[h.name, version] as const] : [];
  });
  return verdict(
    'nodes/version',
    seen
      .filter(([, v]) => v !== want)
      .map(([name, v]) => `${name} runs kubelet ${v}, the inventory says ${want}`),
    `every kubelet at ${want}`,
    seen.map(([name, v]) => `${name}: ${v}`),
    'setup 05 installs the inventory version (upgrade does it one node at a time)',
  );
}

function declaredCheck(hosts: HostSpec[], nodes: Map<string, Node>, inv: Inventory): Check {
  const problems: string[] = [];
  for (const host of hosts) {
    const node = nodes.get(host.name);
    if (!node) continue;
    const { labels = {}, taints = [] } = nodeChanges(host, inv);
    for (const [key, value] of Object.entries(labels))
      if (value !== null && node.metadata.labels?.[key] !== value)
        problems.push(`${host.name} lacks label ${key}=${value}`);
    for (const taint of taints)
      if (
        !node.spec.taints.some(
          (t) => t.key === taint.key && t.effect === taint.effect && (t.value ?? '') === (taint.value ?? ''),
        )
      )
        problems.push(
          `${host.name} lacks taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`,
        );
  }
  return verdict(
    'nodes/labels-taints',
    problems,
    'labels and taints as the inventory declares',
    [],
    'setup 05 (kube-node-config) sets them again',
  );
}

/** The services of the hosts this run asked (a run limited with --hosts asks only those). */
function servicesCheck(hosts: HostSpec[], probes: Map<string, HostProbe>, inv: Inventory): Check {
  const problems: string[] = [];
  const asked = hosts.filter((h) => probes.has(h.name));
  for (const host of asked) {
    const probe = probes.get(host.name)!;
    if (!probe.sections) {
      problems.push(`${host.name}: not asked (${probe.error ?? 'no answer'})`);
      continue;
    }
    for (const unit of inactiveUnits(probe, host, inv)) problems.push(`${host.name}: ${unit}`);
    const proxy = splitHttp(probe.sections.proxy);
    if (proxy.status !== 200)
      problems.push(
        `${host.name}: kube-proxy /healthz ${proxy.status || 'no answer'}${proxy.body ? ` ${proxy.body.slice(0, 160)}` : ''}`,
      );
  }
  return verdict(
    'nodes/services',
    problems,
    `containerd, kubelet, kube-proxy${inv.cluster.controlPlaneEndpoint ? '' : ', haproxy'} active and kube-proxy healthy on ${asked.length} host(s)`,
    [],
    'on that host: systemctl status <unit>; journalctl -u <unit> -n 50 (setup 05 starts them again)',
  );
}

/** Every inventory host registered, Ready, at the version, labelled and tainted as declared, its services up. */
export function nodeChecks(rawNodes: unknown[] | undefined, probes: HostProbe[], inv: Inventory): Check[] {
  const hosts = inv.hosts.filter(isKubeHost);
  const byHost = new Map(probes.map((p) => [p.host, p]));
  const checks: Check[] = [];
  if (rawNodes) {
    const nodes = new Map(rawNodes.map((n) => nodeWithInfo.parse(n)).map((n) => [n.metadata.name, n]));
    checks.push(
      ...readyCheck(hosts, nodes),
      versionCheck(hosts, nodes, inv),
      declaredCheck(hosts, nodes, inv),
    );
  }
  checks.push(servicesCheck(hosts, byHost, inv));
  return checks;
}
