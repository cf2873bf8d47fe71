import { describe, expect, it } from 'vitest';
import { CALICO_DAEMONSET } from '../../../../src/components/network/calico.js';
import { FLANNEL_DAEMONSET } from '../../../../src/components/network/flannel.js';
import { networkObjects } from '../../../../src/components/network/index.js';
import type { NetworkObject } from '../../../../src/components/network/types.js';
import { InputError } from '../../../../src/errors.js';
import { container, envValue, find, inventory } from './fixture.js';

const netConf = (objects: NetworkObject[]) =>
  JSON.parse(
    (find(objects, 'ConfigMap', 'kube-flannel-cfg').data as Record<string, string>)['net-conf.json']!,
  );

describe('networkObjects', () => {
  it("picks the inventory's plugin and hands it the shared and its own options", () => {
    const flannel = networkObjects(inventory({ plugin: 'flannel' }), {
      interface: 'eth1',
      flannel: { backend: 'host-gw' },
      calico: { backend: 'vxlan' },
    });
    expect(find(flannel, 'DaemonSet', FLANNEL_DAEMONSET.name)).toBeDefined();
    expect(netConf(flannel).Backend).toEqual({ Type: 'host-gw' });
    expect(container(flannel, 'kube-flannel').args).toContain('--iface=eth1');

    const calico = networkObjects(inventory({ plugin: 'calico' }), {
      mtu: 1440,
      flannel: { backend: 'host-gw' },
      calico: { backend: 'vxlan' },
    });
    expect(find(calico, 'DaemonSet', CALICO_DAEMONSET.name)).toBeDefined();
    expect(find(calico, 'ConfigMap', 'calico-config').data).toMatchObject({
      calico_backend: 'vxlan',
      veth_mtu: '1440',
    });
    expect(envValue(container(calico, 'calico-node'), 'CALICO_IPV4POOL_CIDR')).toBe('172.20.0.0/16');
  });

  it('refuses cilium, naming the field', () => {
    const cilium = inventory({ plugin: 'cilium' });
    expect(() => networkObjects(cilium)).toThrow(InputError);
    expect(() => networkObjects(cilium)).toThrow('cluster.network.plugin: cilium is not supported yet');
  });
});
