import type { Resource } from '../engine/resources.js';
import type { Inventory } from '../inventory/schema.js';

export const CLUSTER_MARKER = '/etc/kubesmith/cluster-name';

/**
 * Names the cluster a host belongs to. Every step that starts a service writes it, so that
 * the host preflight of a later run can tell ports held by this cluster's own services from
 * ports taken by something else (whichever step ran first).
 */
export function clusterMarker(inventory: Inventory): Resource {
  return { kind: 'file', path: CLUSTER_MARKER, content: `${inventory.cluster.name}\n` };
}
