import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BundleManifest, readBundleManifest, sha256File } from '../../src/artifacts/bundle.js';
import { LAB_KUBERNETES_VERSIONS } from '../../src/lab/build/recipes.js';
import { ensureLabBundle } from '../../src/lab/lab-bundle.js';
import { skipWithout } from '../helpers/prerequisite.js';
import { E2E_HOME, labUnavailable } from './harness.js';

/** What each built binary must print, given the version its manifest entry records. */
const VERSION_COMMANDS: [string, string[], (version: string) => string][] = [
  ['bin/kube-apiserver', ['--version'], (v) => `Kubernetes v${v}`],
  ['bin/kube-controller-manager', ['--version'], (v) => `Kubernetes v${v}`],
  ['bin/kube-scheduler', ['--version'], (v) => `Kubernetes v${v}`],
  ['bin/kubelet', ['--version'], (v) => `Kubernetes v${v}`],
  ['bin/kube-proxy', ['--version'], (v) => `Kubernetes v${v}`],
  ['bin/kubectl', ['version', '--client'], (v) => `Client Version: v${v}`],
  ['bin/etcd', ['--version'], (v) => `etcd Version: ${v}`],
  ['bin/etcdctl', ['version'], (v) => `etcdctl version: ${v}`],
  ['bin/containerd', ['--version'], (v) => ` v${v} `],
  ['bin/runc', ['--version'], (v) => `runc version ${v}`],
  ['bin/crictl', ['--version'], (v) => `crictl version ${v}`],
];

const unavailable = skipWithout('lab bundle e2e', labUnavailable());

describe.skipIf(unavailable).each(LAB_KUBERNETES_VERSIONS)('the lab bundle for Kubernetes %s', (version) => {
  let dir = '';
  let manifest: BundleManifest;
  beforeAll(async () => {
    ({ dir } = await ensureLabBundle(join(E2E_HOME, 'cache'), version, () => undefined));
    manifest = await readBundleManifest(dir);
  });

  it('every built binary runs and prints the version its manifest records', async () => {
    for (const [path, args, expected] of VERSION_COMMANDS) {
      const artifact = manifest.artifacts.find((a) => a.files.some((f) => f.path === path));
      expect(artifact, path).toBeDefined();
      expect(artifact?.source).toBe('built');
      expect(artifact?.goVersion).toMatch(/^go1\.\d+/);
      const run = await execa(join(dir, path), args, { reject: false, all: true });
      expect(run.all, path).toContain(expected(artifact!.version));
    }
    expect(manifest.artifacts.find((a) => a.name === 'kubernetes')?.version).toBe(version);
  });

  it('lists every file and image with its sha256 and size, and they match', async () => {
    for (const file of manifest.artifacts.flatMap((a) => a.files)) {
      expect(await sha256File(join(dir, file.path)), file.path).toBe(file.sha256);
    }
    const names = manifest.images.map((i) => i.name);
    expect(names).toContain('registry.k8s.io/pause:3.10.1');
    expect(names.some((n) => n.startsWith('registry.k8s.io/e2e-test-images/agnhost:'))).toBe(true);
    for (const image of manifest.images) {
      expect(await sha256File(join(dir, image.path)), image.name).toBe(image.sha256);
      expect(image.source).toBe('built');
    }
  });
});

describe.skipIf(unavailable)('the lab bundles of both Kubernetes versions', () => {
  it('carry byte-identical archives of the images they share, so an upgrade uploads none of them', async () => {
    const manifests = await Promise.all(
      LAB_KUBERNETES_VERSIONS.map(async (version) =>
        readBundleManifest((await ensureLabBundle(join(E2E_HOME, 'cache'), version, () => undefined)).dir),
      ),
    );
    const [older, newer] = manifests.map((m) => new Map(m.images.map((i) => [i.name, i.sha256])));
    const shared = [...older!.keys()].filter((name) => newer!.has(name));
    expect(shared.some((n) => n.startsWith('ghcr.io/flannel-io/flannel:'))).toBe(true);
    expect(shared.some((n) => n.includes('jessie-dnsutils'))).toBe(true);
    for (const name of shared) expect(newer!.get(name), name).toBe(older!.get(name));
  });
});
