import { addonObjects } from '../components/addons/index.js';
import { CALICO_DAEMONSET } from '../components/network/calico.js';
import { FLANNEL_DAEMONSET } from '../components/network/flannel.js';
import type { Inventory } from '../inventory/schema.js';
import { certificateCheck, type IssuedCert } from './checks-certs.js';
import { controlPlaneChecks } from './checks-control-plane.js';
import { etcdChecks } from './checks-etcd.js';
import { nodeChecks } from './checks-nodes.js';
import { type ExpectedWorkload, workloadChecks } from './checks-workloads.js';
import { isKubeHost } from './host-probes.js';
import type { Check, CheckArea } from './report.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Which areas the setup steps of a run stand for; no setup step named means all of them. */
export function areasOf(steps: readonly string[] | undefined): Set<CheckArea> {
  const has = (...ids: string[]) => !steps || ids.some((id) => steps.includes(id));
  const areas = new Set<CheckArea>();
  if (has('etcd')) areas.add('etcd');
  if (has('etcd', 'kube-master')) areas.add('certificates');
  if (has('kube-master', 'kube-access')) areas.add('control-plane');
  if (has('kube-node', 'kube-node-config')) areas.add('nodes');
  if (has('network')) areas.add('network');
  if (has('addons')) areas.add('addons');
  if (has('network') && has('addons') && areas.has('nodes')) areas.add('smoke');
  return areas;
}

/** The network plugin's DaemonSet and the workload of every enabled addon. */
export function expectedWorkloads(inv: Inventory, areas: Set<CheckArea>): ExpectedWorkload[] {
  const plugin = inv.cluster.network.plugin;
  // cilium is accepted by the schema but not installed by step 06 yet: nothing to expect of it.
  const daemonSet =
    plugin === 'calico' ? CALICO_DAEMONSET : plugin === 'flannel' ? FLANNEL_DAEMONSET : undefined;
  return [
    ...(areas.has('network') && daemonSet
      ? [{ area: 'network' as const, name: plugin, ref: daemonSet }]
      : []),
    ...(areas.has('addons')
      ? addonObjects(inv).flatMap((a) =>
          a.enabled && a.wait ? [{ area: 'addons' as const, name: a.name, ref: a.wait }] : [],
        )
      : []),
  ];
}

export interface JudgeOptions {
  areas: Set<CheckArea>;
  now: Date;
  certs?: IssuedCert[];
}

/** Every check of the given areas, judged on what a snapshot holds. */
export function judge(snapshot: ClusterSnapshot, inv: Inventory, options: JudgeOptions): Check[] {
  const { areas, now } = options;
  const checks: Check[] = [];
  if (areas.has('etcd') && snapshot.etcd) checks.push(...etcdChecks(snapshot.etcd, inv));
  const needsApi = ['control-plane', 'nodes', 'network', 'addons'].some((a) => areas.has(a as CheckArea));
  if (needsApi && !snapshot.api)
    checks.push({
      id: 'control-plane/api',
      area: 'control-plane',
      status: 'fail',
      summary: 'the Kubernetes API could not be read',
      evidence: [snapshot.apiError ?? 'no answer'],
      hint: 'is kube-apiserver running on the first master? (systemctl status kube-apiserver)',
    });
  if (areas.has('control-plane'))
    checks.push(
      // Leases are as fresh as the moment they were read, not as the end of the smoke.
      ...controlPlaneChecks(
        snapshot.hosts,
        snapshot.api?.leases,
        inv,
        snapshot.api ? new Date(snapshot.api.readAt) : now,
      ),
    );
  if (areas.has('nodes')) checks.push(...nodeChecks(snapshot.api?.nodes, snapshot.hosts, inv));
  if (snapshot.api && (areas.has('network') || areas.has('addons')))
    checks.push(
      ...workloadChecks(
        snapshot.api,
        expectedWorkloads(inv, areas),
        inv.hosts.filter(isKubeHost).map((h) => h.name),
        areas.has('addons') && inv.addons.metricsServer,
      ),
    );
  if (areas.has('certificates') && options.certs) checks.push(certificateCheck(options.certs, now));
  return checks;
}
