import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jessieDnsutilsRef } from '../../../../src/lab/build/e2e-images.js';
import { kubernetesRecipe, LAB_KUBERNETES_VERSIONS } from '../../../../src/lab/build/recipes.js';
import { cachedBuild, recipePaths } from '../../../../src/lab/build/record.js';

describe('the e2e suite in the lab build', () => {
  it('e2e.test is built with the lab’s Kubernetes only, into bin/ of the bundle', () => {
    const [lab, other] = LAB_KUBERNETES_VERSIONS;
    expect(kubernetesRecipe(lab).tests).toEqual({ 'k8s.io/kubernetes/test/e2e': 'bin/e2e.test' });
    expect(kubernetesRecipe(other).tests).toBeUndefined();
    expect(recipePaths(kubernetesRecipe(lab))).toContain('bin/e2e.test');
    expect(recipePaths(kubernetesRecipe(lab))).toContain('image-bin/agnhost');
  });

  it('reads the jessie-dnsutils tag from the suite’s manifest.go', () => {
    const manifestGo =
      '\tconfigs[JessieDnsutils] = Config{list.PromoterE2eRegistry, "jessie-dnsutils", "1.7"}';
    expect(jessieDnsutilsRef(manifestGo)).toEqual({
      name: 'registry.k8s.io/e2e-test-images/jessie-dnsutils',
      tag: '1.7',
    });
    expect(() => jessieDnsutilsRef('')).toThrow(/no JessieDnsutils image tag/);
  });
});

describe('a recorded build', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-record-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function record(paths: string[]): Promise<string> {
    const files = [];
    for (const path of paths) {
      const localPath = join(dir, path.replaceAll('/', '_'));
      await writeFile(localPath, 'binary');
      files.push({ path, localPath, sha256: 'x', size: 6 });
    }
    const file = join(dir, 'built.json');
    await writeFile(
      file,
      JSON.stringify({ component: 'kubernetes', version: '1.34.4', goVersion: 'go1.26', seconds: 1, files }),
    );
    return file;
  }

  it('is reused when it has every file the recipe names, narrowed to them', async () => {
    const recipe = {
      ...kubernetesRecipe('1.35.4'),
      packages: { 'k8s.io/kubernetes/cmd/kubectl': 'bin/kubectl' },
    };
    const cached = await cachedBuild(await record(['bin/kubectl', 'bin/kubelet']), recipe);
    expect(cached?.built).toBe(false);
    expect(cached?.files.map((f) => f.path)).toEqual(['bin/kubectl']);
  });

  it('is built again when the recipe now names a file it lacks (e2e.test added)', async () => {
    const recipe = kubernetesRecipe(LAB_KUBERNETES_VERSIONS[0]);
    const before = recipePaths(recipe).filter((p) => p !== 'bin/e2e.test');
    expect(await cachedBuild(await record(before), recipe)).toBeUndefined();
    expect(await cachedBuild(await record(recipePaths(recipe)), recipe)).toBeDefined();
  });
});
