import { describe, expect, it } from 'vitest';
import { imageCatalogFor } from '../../../../src/artifacts/image-catalog.js';
import { k8sRegistryImage } from '../../../../src/components/addons/images.js';
import { addonManifest, fieldsAt, filled, listAt } from '../../../../src/components/addons/manifest.js';

describe('addon manifest helpers', () => {
  it('hands out a fresh copy of a manifest on every call', () => {
    const first = addonManifest('coredns/coredns.yaml.base');
    first[0]!.metadata.name = 'changed';
    expect(addonManifest('coredns/coredns.yaml.base')[0]!.metadata.name).toBe('coredns');
  });

  it('reaches nested objects and lists, creating them only when asked', () => {
    const root: Record<string, unknown> = { spec: { list: 'x' } };
    expect(() => fieldsAt(root, ['spec', 'template', 'spec'])).toThrow('spec.template is not an object');
    fieldsAt(root, ['spec', 'template', 'spec'], true).a = 1;
    expect(root).toEqual({ spec: { list: 'x', template: { spec: { a: 1 } } } });
    listAt(root, 'items').push(1);
    expect(root.items).toEqual([1]);
    expect(() => listAt(fieldsAt(root, ['spec']), 'list')).toThrow('list is not a list');
  });

  it('fills a placeholder everywhere in a string, and says where upstream no longer has it', () => {
    expect(filled('bind __IP__ and __IP__', '__IP__', '10.0.0.1', 'x')).toBe('bind 10.0.0.1 and 10.0.0.1');
    expect(() => filled('bind 10.0.0.1', '__IP__', '10.0.0.2', 'the Corefile')).toThrow(
      'the Corefile has no __IP__ to fill',
    );
    expect(() => filled(undefined, '__IP__', '10.0.0.2', 'the Service')).toThrow('the Service has no __IP__');
  });
});

describe('k8sRegistryImage', () => {
  const mirror = 'registry.aliyuncs.com/google_containers';

  it('keeps registry.k8s.io names on the default registry and flattens them under another', () => {
    const image = 'registry.k8s.io/metrics-server/metrics-server:v0.8.0';
    expect(k8sRegistryImage(image, 'registry.k8s.io')).toBe(image);
    expect(k8sRegistryImage(image, mirror)).toBe(`${mirror}/metrics-server:v0.8.0`);
    expect(k8sRegistryImage('registry.k8s.io/pause:3.10.1', 'harbor.local:5000')).toBe(
      'harbor.local:5000/pause:3.10.1',
    );
  });

  it('names CoreDNS and pause as the image catalog does', () => {
    for (const registry of ['registry.k8s.io', mirror]) {
      for (const image of imageCatalogFor('1.34.4', registry)) {
        const upstream = imageCatalogFor('1.34.4').find((i) => i.role === image.role)!.reference;
        expect(k8sRegistryImage(upstream, registry)).toBe(image.reference);
      }
    }
  });

  it('refuses an image of another registry', () => {
    expect(() => k8sRegistryImage('ghcr.io/flannel-io/flannel:v0.28.9', mirror)).toThrow(
      'is not on registry.k8s.io',
    );
  });
});
