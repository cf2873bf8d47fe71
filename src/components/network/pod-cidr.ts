import { isIP } from 'node:net';
import { InputError } from '../../errors.js';
import type { Inventory } from '../../inventory/schema.js';

/** The inventory's pod CIDR, which the plugin can only take as IPv4. */
export function ipv4PodCidr(inv: Inventory, plugin: string): string {
  const podCidr = inv.cluster.network.podCidr;
  if (isIP(podCidr.split('/')[0] ?? '') === 4) return podCidr;
  const message = `is ${podCidr}; kubesmith sets ${plugin} up for an IPv4 pod network only`;
  throw new InputError(`cluster.network.podCidr ${message}`, [{ path: 'cluster.network.podCidr', message }]);
}
