import { describe, expect, it } from 'vitest';
import { bundleImageSources, imageSource } from '../../../src/artifacts/bundle-images.js';
import { inventorySchema } from '../../../src/inventory/schema.js';

const inventory = (cluster: Record<string, unknown> = {}, addons: Record<string, unknown> = {}) =>
  inventorySchema.parse({
    cluster: { name: 'b', kubernetesVersion: '1.34.4', ...cluster },
    addons,
    hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
  });

describe('the images an offline bundle carries', () => {
  it('reads a reference with its registry, a port and a path', () => {
    expect(imageSource('127.0.0.1:5000/google_containers/metrics-server:v0.8.0')).toEqual({
      reference: '127.0.0.1:5000/google_containers/metrics-server:v0.8.0',
      registry: '127.0.0.1:5000',
      repository: 'google_containers/metrics-server',
      tag: 'v0.8.0',
    });
    expect(() => imageSource('busybox:1.36')).toThrow(/names no registry/);
  });

  it("the catalog's, then each enabled addon's through cluster.imageRegistry", () => {
    const refs = (inv: ReturnType<typeof inventory>) => bundleImageSources(inv).map((i) => i.reference);
    expect(refs(inventory())).toEqual([
      'registry.k8s.io/pause:3.10.1',
      'registry.k8s.io/coredns/coredns:v1.12.1',
      'registry.k8s.io/metrics-server/metrics-server:v0.8.0',
      'registry.k8s.io/dns/k8s-dns-node-cache:1.26.4',
      'registry.k8s.io/e2e-test-images/agnhost:2.56',
    ]);
    expect(refs(inventory({ imageRegistry: 'registry.aliyuncs.com/google_containers' }))).toContain(
      'registry.aliyuncs.com/google_containers/metrics-server:v0.8.0',
    );
    expect(refs(inventory({}, { metricsServer: false, nodeLocalDns: false }))).toHaveLength(3);
  });
});
