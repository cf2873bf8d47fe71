import { describe, expect, it } from 'vitest';
import { mirroredImage } from '../../../../src/components/network/images.js';
import { containerNamed, objectNamed, parseManifest } from '../../../../src/components/network/manifest.js';

describe('parseManifest', () => {
  it('leaves out documents holding only comments', () => {
    const objects = parseManifest(
      '---\n# nothing\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n',
      'm.yaml',
    );
    expect(objects).toEqual([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }]);
  });

  it('refuses a document that is not a Kubernetes object, or not YAML', () => {
    expect(() => parseManifest('- a\n- b\n', 'm.yaml')).toThrow(
      'm.yaml: document 1 is not a Kubernetes object',
    );
    expect(() => parseManifest('kind: [\n', 'm.yaml')).toThrow(/^m\.yaml: document 1: /);
    expect(() => parseManifest('a: 1\na: 2\n', 'm.yaml')).toThrow(/m\.yaml: document 1: .*unique/i);
  });

  it('says which object or container is missing', () => {
    const objects = parseManifest('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n', 'm.yaml');
    expect(() => objectNamed(objects, 'DaemonSet', 'x')).toThrow('the manifest has no DaemonSet x');
    expect(() => containerNamed(objects[0]!, 'c')).toThrow('Namespace a has no pod template');
  });
});

describe('mirroredImage', () => {
  it('swaps the registry host for the mirror and keeps repository and tag', () => {
    expect(mirroredImage('quay.io/calico/node:v3.32.1', 'harbor.local/quay')).toBe(
      'harbor.local/quay/calico/node:v3.32.1',
    );
    expect(mirroredImage('quay.io/calico/node:v3.32.1', undefined)).toBe('quay.io/calico/node:v3.32.1');
  });

  it('refuses a name without its registry', () => {
    expect(() => mirroredImage('calico/node:v3.32.1', 'harbor.local')).toThrow('does not name its registry');
  });
});
