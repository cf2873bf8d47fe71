import { describe, expect, it } from 'vitest';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { kubeletOptionsFrom } from '../../../src/steps/kube-node.js';
import { CONTROL_PLANE_LABEL, nodeChanges } from '../../../src/steps/kube-node-config.js';

const sections = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('kubelet options from the host', () => {
  it('a plain cgroup v2 server: no quirks', () => {
    const options = kubeletOptionsFrom(
      sections({ virt: 'none\n', cgroup: 'cgroup2fs\n', resolv: 'nameserver 10.0.0.2\n', resolved: '' }),
    );
    expect(options).toEqual({ container: false, cgroupV1: false, ignoreSwap: false });
  });

  it('systemd-resolved stub: kubelet reads the real resolver list (pods would loop through CoreDNS)', () => {
    const options = kubeletOptionsFrom(
      sections({
        virt: 'none',
        cgroup: 'cgroup2fs',
        resolv: 'nameserver  127.0.0.53\noptions edns0\n',
        resolved: 'yes\n',
      }),
    );
    expect(options.resolvConf).toBe('/run/systemd/resolve/resolv.conf');
    // The stub without systemd-resolved's own file: left alone.
    expect(
      kubeletOptionsFrom(
        sections({ virt: 'none', cgroup: 'tmpfs', resolv: 'nameserver 127.0.0.53\n', resolved: '' }),
      ).resolvConf,
    ).toBeUndefined();
  });

  it('a container on cgroup v1 (the lab): cgroup v1, swap it cannot turn off ignored', () => {
    const options = kubeletOptionsFrom(
      sections({ virt: 'systemd-nspawn\n', cgroup: 'tmpfs\n', resolv: '', resolved: '' }),
    );
    expect(options).toMatchObject({ container: true, cgroupV1: true, ignoreSwap: true });
  });
});

describe('node labels and taints from the inventory', () => {
  const inv = inventorySchema.parse({
    cluster: { name: 'c' },
    hosts: [
      { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
      {
        name: 'w1',
        address: '10.0.0.2',
        roles: ['node'],
        labels: { disktype: 'ssd' },
        taints: [{ key: 'gpu', effect: 'NoSchedule' }],
      },
    ],
  });

  it('masters: the control-plane role label and taint; nodes: their own labels and taints', () => {
    expect(nodeChanges(inv.hosts[0]!, inv)).toEqual({
      labels: { [CONTROL_PLANE_LABEL]: '' },
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
    });
    expect(nodeChanges(inv.hosts[1]!, inv)).toEqual({
      labels: { disktype: 'ssd' },
      taints: [{ key: 'gpu', effect: 'NoSchedule' }],
    });
  });

  it('schedulable masters keep the role label but lose the taint', () => {
    const open = { ...inv, cluster: { ...inv.cluster, mastersSchedulable: true } };
    expect(nodeChanges(inv.hosts[0]!, open)).toEqual({ labels: { [CONTROL_PLANE_LABEL]: '' }, taints: [] });
  });
});
