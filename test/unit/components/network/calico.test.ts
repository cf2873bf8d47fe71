import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CALICO_DAEMONSET,
  CALICO_IMAGES,
  CALICO_LAB_NOTE,
  calicoImages,
  calicoObjects,
} from '../../../../src/components/network/calico.js';
import { parseManifest, workloadContainers } from '../../../../src/components/network/manifest.js';
import type { NetworkObject } from '../../../../src/components/network/types.js';
import { InputError } from '../../../../src/errors.js';
import { PACKAGE_ROOT } from '../../../../src/package-root.js';
import { changedPaths, container, envValue, find, inventory } from './fixture.js';

const inv = inventory({ podCidr: '10.200.0.0/16' });
const upstream = (file: string) =>
  parseManifest(readFileSync(join(PACKAGE_ROOT, 'templates/network', file), 'utf8'), file);
const calicoNode = (objects: NetworkObject[]) => container(objects, 'calico-node');
const configData = (objects: NetworkObject[]) =>
  find(objects, 'ConfigMap', 'calico-config').data as Record<string, string>;

describe('calicoObjects', () => {
  it('sets CALICO_IPV4POOL_CIDR (commented out upstream) to the pod CIDR', () => {
    expect(envValue(calicoNode(upstream('calico.yaml')), 'CALICO_IPV4POOL_CIDR')).toBeUndefined();
    expect(envValue(calicoNode(calicoObjects(inv)), 'CALICO_IPV4POOL_CIDR')).toBe('10.200.0.0/16');
  });

  it('finds the host address by reaching the first master, or on exactly the named interface', () => {
    const method = (objects: NetworkObject[]) => envValue(calicoNode(objects), 'IP_AUTODETECTION_METHOD');
    expect(method(calicoObjects(inv))).toBe('can-reach=10.0.0.1');
    expect(method(calicoObjects(inv, { interface: '' }))).toBe('can-reach=10.0.0.1');
    expect(method(calicoObjects(inv, { interface: 'eth1' }))).toBe('interface=^eth1$');
    expect(method(calicoObjects(inv, { interface: 'bond0.100' }))).toBe('interface=^bond0\\.100$');
  });

  it("sets veth_mtu when given; unset or 0 keeps upstream's 0 (detect)", () => {
    expect(configData(calicoObjects(inv, { mtu: 1440 })).veth_mtu).toBe('1440');
    expect(configData(calicoObjects(inv)).veth_mtu).toBe('0');
    expect(configData(calicoObjects(inv, { mtu: 0 })).veth_mtu).toBe('0');
  });

  it('keeps the upstream names by default and rewrites every image through a mirror', () => {
    expect(new Set(workloadContainers(calicoObjects(inv)).map((c) => c.image))).toEqual(
      new Set(CALICO_IMAGES),
    );
    const mirror = 'registry.example.com/quay';
    const images = calicoImages({ imageMirror: mirror });
    expect(images).toEqual([
      'registry.example.com/quay/calico/cni:v3.32.1',
      'registry.example.com/quay/calico/node:v3.32.1',
      'registry.example.com/quay/calico/kube-controllers:v3.32.1',
    ]);
    const containers = workloadContainers(calicoObjects(inv, { imageMirror: mirror }));
    expect(containers).toHaveLength(5);
    for (const c of containers) {
      expect(images).toContain(c.image);
      expect(c.imagePullPolicy).toBe('IfNotPresent');
    }
  });

  it('holds the CRDs, RBAC and the calico-node DaemonSet, every namespaced object in kube-system', () => {
    const objects = calicoObjects(inv);
    expect(objects).toHaveLength(38);
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    expect(crds).toHaveLength(23);
    expect(crds).toContain('ippools.crd.projectcalico.org');
    const daemonSet = find(objects, CALICO_DAEMONSET.kind, CALICO_DAEMONSET.name);
    expect(daemonSet.metadata.namespace).toBe('kube-system');
    const namespaced = objects.filter((o) => o.metadata.namespace !== undefined);
    expect(namespaced.map((o) => o.metadata.namespace)).toEqual(Array(namespaced.length).fill('kube-system'));
    for (const o of objects) expect(o.apiVersion && o.kind && o.metadata.name).toBeTruthy();
    expect(JSON.parse(JSON.stringify(objects))).toEqual(objects);
  });

  it.each([
    ['bird', 'calico.yaml'],
    ['vxlan', 'calico-vxlan.yaml'],
  ] as const)(
    'backend %s: %s with only the env and MTU changed (pull policies already IfNotPresent)',
    (backend, file) => {
      const objects = calicoObjects(inv, { backend, mtu: 1440 });
      expect(configData(objects).calico_backend).toBe(backend);
      const node = calicoNode(objects);
      expect(envValue(node, 'CALICO_IPV4POOL_IPIP')).toBe(backend === 'bird' ? 'Always' : 'Never');
      expect(envValue(node, 'CALICO_IPV4POOL_VXLAN')).toBe(backend === 'bird' ? 'Never' : 'CrossSubnet');
      const before = upstream(file);
      const paths = objects.flatMap((o, i) =>
        changedPaths(before[i], o).map((p) => `${o.metadata.name}:${p}`),
      );
      const spec = 'spec.template.spec';
      expect(paths).toEqual([
        'calico-config:data.veth_mtu',
        'calico-node:spec.template.metadata.annotations',
        `calico-node:${spec}.containers.0.env.${upstreamEnvLength(before)}`,
        `calico-node:${spec}.containers.0.env.${upstreamEnvLength(before) + 1}`,
      ]);
    },
  );

  it('refuses an IPv6 pod CIDR', () => {
    const v6 = inventory({ podCidr: 'fd00:10:244::/56', serviceCidr: 'fd00:10:96::/112' });
    expect(() => calicoObjects(v6)).toThrow(InputError);
  });

  it('says why it is not run in the lab', () => {
    expect(CALICO_LAB_NOTE).toMatch(/lab/);
  });
});

function upstreamEnvLength(objects: NetworkObject[]): number {
  return calicoNode(objects).env?.length ?? 0;
}
