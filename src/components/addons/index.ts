import type { Inventory } from '../../inventory/schema.js';
import type { KubeObject } from '../../kube/types.js';
import type { WorkloadRef } from '../network/types.js';
import { COREDNS_DEPLOYMENT, type CorednsOptions, corednsObjects } from './coredns.js';
import { METRICS_SERVER_DEPLOYMENT, metricsServerObjects } from './metrics-server.js';
import { NODE_LOCAL_DNS_DAEMONSET, NODE_LOCAL_DNS_LAB_NOTE, nodeLocalDnsObjects } from './nodelocaldns.js';

export interface Addon {
  name: 'coredns' | 'metrics-server' | 'nodelocaldns';
  /** The inventory's addons flag: enabled addons are applied, the objects of disabled ones removed. */
  enabled: boolean;
  objects: KubeObject[];
  /** The workload that is ready when the addon is. */
  wait?: WorkloadRef;
  note?: string;
}

/**
 * Every addon kubesmith installs, enabled or not, in the order to apply them: CoreDNS, then
 * NodeLocal DNSCache in front of it, then metrics-server.
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
  ];
}
