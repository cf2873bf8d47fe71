import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import type { WorkloadRef } from '../network/types.js';
import { COREDNS_DEPLOYMENT, type CorednsOptions, corednsObjects } from './coredns.js';
import { dashboardAddon } from './dashboard.js';
import { METRICS_SERVER_DEPLOYMENT, metricsServerObjects } from './metrics-server.js';
import { NODE_LOCAL_DNS_DAEMONSET, NODE_LOCAL_DNS_LAB_NOTE, nodeLocalDnsObjects } from './nodelocaldns.js';

export interface Addon {
  name: 'coredns' | 'metrics-server' | 'nodelocaldns' | 'dashboard';
  /** The inventory's addons flag: enabled addons are applied, the objects of disabled ones removed. */
  enabled: boolean;
  objects: KubeObject[];
  /** Objects of an enabled addon to remove where present: what another of its settings created. */
  obsolete?: KubeObject[];
  /** The workload that is ready when the addon is. */
  wait?: WorkloadRef;
  note?: string;
}

/**
 * Every addon kubesmith installs, enabled or not, in the order to apply them: CoreDNS, then
 * NodeLocal DNSCache in front of it, then metrics-server, then the dashboard.
 */
export function addonObjects(inv: Inventory, coredns: Pick<CorednsOptions, 'upstream'> = {}): Addon[] {
  const enabled = inv.addons;
  return [
    {
      name: 'coredns',
      enabled: enabled.coredns,
      objects: corednsObjects(inv, coredns),
      wait: COREDNS_DEPLOYMENT,
    },
    {
      name: 'nodelocaldns',
      enabled: enabled.nodeLocalDns,
      objects: nodeLocalDnsObjects(inv),
      wait: NODE_LOCAL_DNS_DAEMONSET,
      note: NODE_LOCAL_DNS_LAB_NOTE,
    },
    {
      name: 'metrics-server',
      enabled: enabled.metricsServer,
      objects: metricsServerObjects(inv),
      wait: METRICS_SERVER_DEPLOYMENT,
    },
    dashboardAddon(inv),
  ];
}
