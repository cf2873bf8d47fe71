import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleManifest } from '../../src/artifacts/bundle.js';
import { ensureDebianBundle } from '../../src/lab/debian-bundle.js';
import { skipWithout } from '../helpers/prerequisite.js';
import { E2E_HOME, kubesmith, labShell, labUnavailable } from './harness.js';

/**
 * The fallback where no Go toolchain exists: the bundle comes from Debian's packages
 * (etcd 3.4, containerd 1.6, runc, CNI 1.1), Kubernetes listed as absent, and steps 02 and
 * 03's runtime still work on it (containerd config version 2).
 */
const unavailable = skipWithout('Debian bundle e2e', labUnavailable());
const LAB = 'e2e-debian';
const shell = labShell(LAB);
const DEBIAN_BUNDLE = join(E2E_HOME, 'cache', 'lab-bundle-bookworm');

describe.skipIf(unavailable)('the Debian-package bundle, for machines without Go', () => {
  beforeAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
    rmSync(shell.clusterDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('is assembled from apt-get download with every file from Debian and Kubernetes absent', async () => {
    await ensureDebianBundle(DEBIAN_BUNDLE, () => undefined);
    const manifest = await readBundleManifest(DEBIAN_BUNDLE);
    expect(manifest.artifacts.map((a) => a.source)).toEqual(manifest.artifacts.map(() => 'debian'));
    expect(manifest.artifacts.map((a) => a.name).sort()).toEqual([
      'cni-plugins',
      'containerd',
      'etcd',
      'etcdctl',
      'runc',
    ]);
    expect(manifest.absent.map((a) => a.name)).toContain('kubelet');
    expect(manifest.images).toEqual([]);
  });

  it('runs setup 02 and the runtime step on a lab machine pointed at it', async () => {
    const up = await kubesmith('lab', 'up', '1', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    shell.learn(up.stdout);
    const file = join(shell.clusterDir, 'inventory.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/dir: .*lab-bundle\/kubernetes-[^\n]+/, `dir: ${DEBIAN_BUNDLE}`),
    );
    for (const step of ['01', '02', 'runtime']) {
      const run = await kubesmith('setup', LAB, step);
      expect(run.exitCode, run.all).toBe(0);
    }
    expect(await shell.run(0, 'containerd --version')).toMatch(/ 1\.6\./);
    expect(await shell.run(0, 'head -3 /etc/containerd/config.toml')).toContain('version = 2');
    expect(await shell.run(0, 'etcd --version')).toMatch(/etcd Version: 3\.4\./);
  });
});
