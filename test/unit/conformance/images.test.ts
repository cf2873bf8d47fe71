import { describe, expect, it } from 'vitest';
import {
  imagesOnWorkloadNodes,
  missingImagesNamed,
  parseImageList,
  planImages,
  repositoryOf,
} from '../../../src/conformance/images.js';
import { selectionFor } from '../../../src/conformance/modes.js';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.56';
const JESSIE = 'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7';
const PAUSE = 'registry.k8s.io/pause:3.10.1';
const NGINX = 'registry.k8s.io/e2e-test-images/nginx:1.14-4';
/** `e2e.test --list-images` of 1.34.4 (an excerpt; both agnhost repositories). */
const LISTED = [AGNHOST, 'gcr.io/k8s-authenticated-test/agnhost:2.6', JESSIE, PAUSE, NGINX];

const node = (name: string, images: string[], taints: { key: string; effect: string }[] = []) => ({
  metadata: { name },
  spec: { taints },
  status: { images: images.map((i) => ({ names: [`${i.split(':')[0]}@sha256:00`, i], sizeBytes: 1 })) },
});

describe('conformance images', () => {
  it('reads --list-images and splits tags off', () => {
    expect(parseImageList(`${LISTED.join('\n')}\n\n`)).toEqual(LISTED);
    expect(repositoryOf(AGNHOST)).toBe('registry.k8s.io/e2e-test-images/agnhost');
    expect(repositoryOf('localhost:5000/pause')).toBe('localhost:5000/pause');
  });

  it('counts only images on every node test pods can go to (tainted masters do not count)', () => {
    const { nodes, images } = imagesOnWorkloadNodes([
      node('m1', [PAUSE], [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]),
      node('n1', [PAUSE, AGNHOST, JESSIE]),
      node('n2', [PAUSE, AGNHOST]),
    ]);
    expect(nodes).toEqual(['n1', 'n2']);
    expect([...images].filter((i) => !i.includes('@')).sort()).toEqual([AGNHOST, PAUSE]);
  });

  it('leaves out a test whose image the nodes lack, naming it; runs the others', () => {
    const { groups } = selectionFor('network');
    const plan = planImages(groups, LISTED, new Set([PAUSE, AGNHOST]));
    expect(plan.run).toHaveLength(7);
    expect(plan.blocked.map((b) => [b.group.title, b.missing])).toEqual([
      ['[sig-network] DNS should provide DNS for the cluster', [JESSIE]],
      ['[sig-network] DNS should provide DNS for services', [JESSIE]],
    ]);
    expect(plan.absent).toEqual(['gcr.io/k8s-authenticated-test/agnhost:2.6', JESSIE, NGINX]);
    expect(planImages(groups, LISTED, new Set([PAUSE, AGNHOST, JESSIE])).blocked).toEqual([]);
  });

  it('a repository the suite does not list counts as missing', () => {
    const plan = planImages(selectionFor('quick').groups, [AGNHOST], new Set([AGNHOST]));
    expect(plan.blocked[0]!.missing).toEqual(['registry.k8s.io/pause']);
  });

  it('finds the absent images a failure message names', () => {
    const message = `pod "web" is not running: ErrImagePull: failed to pull image "${NGINX}": dial tcp: lookup registry.k8s.io`;
    expect(missingImagesNamed(message, [JESSIE, NGINX])).toEqual([NGINX]);
    expect(missingImagesNamed('timed out waiting for the condition', [NGINX])).toEqual([]);
  });
});
