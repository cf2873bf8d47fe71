import { InputError } from '../../errors.js';
import type { Inventory } from '../../inventory/schema.js';
import { type CalicoOptions, calicoObjects } from './calico.js';
import { type FlannelOptions, flannelObjects } from './flannel.js';
import type { NetworkObject } from './types.js';

/** The choices both plugins share, and each plugin's own, shaped like cluster.network. */
export interface NetworkOptions {
  mtu?: number;
  interface?: string;
  imageMirror?: string;
  flannel?: Pick<FlannelOptions, 'backend'>;
  calico?: Pick<CalicoOptions, 'backend'>;
}

/** The objects of the inventory's network plugin (cluster.network.plugin), ready to apply. */
export function networkObjects(inv: Inventory, options: NetworkOptions = {}): NetworkObject[] {
  const { flannel, calico, ...shared } = options;
  const plugin = inv.cluster.network.plugin;
  switch (plugin) {
    case 'flannel':
      return flannelObjects(inv, { ...shared, ...flannel });
    case 'calico':
      return calicoObjects(inv, { ...shared, ...calico });
    case 'cilium': {
      const message = 'cilium is not supported yet: choose calico or flannel';
      throw new InputError(`cluster.network.plugin: ${message}`, [
        { path: 'cluster.network.plugin', message },
      ]);
    }
  }
}
