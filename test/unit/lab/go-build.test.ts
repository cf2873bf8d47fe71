import { describe, expect, it } from 'vitest';
import { BuildError, defaultExecName, stagingModules, wrapperGoMod } from '../../../src/lab/build/go.js';
import { e2eImageTags } from '../../../src/lab/build/images.js';
import { COMPONENT_RECIPES, kubernetesRecipe } from '../../../src/lab/build/recipes.js';

const KUBERNETES_GO_MOD = `module k8s.io/kubernetes

go 1.24.0

require (
	github.com/Azure/go-ansiterm v0.0.0-20230124172434-306776ec8161
	k8s.io/api v0.0.0
	k8s.io/utils v0.0.0-20250604170112-4c0f3b243397
	k8s.io/kubectl v0.0.0 // indirect
)

require k8s.io/cri-client v0.0.0

replace k8s.io/api => ./staging/src/k8s.io/api
`;

describe('building from Go modules', () => {
  it('reads the staging modules from kubernetes go.mod: exactly the v0.0.0 requires', () => {
    expect(stagingModules(KUBERNETES_GO_MOD)).toEqual(['k8s.io/api', 'k8s.io/kubectl', 'k8s.io/cri-client']);
  });

  it('names binaries as go build -o dir/ does', () => {
    expect(defaultExecName('go.etcd.io/etcd/server/v3')).toBe('server');
    expect(defaultExecName('k8s.io/kubernetes/cmd/kubelet')).toBe('kubelet');
    expect(defaultExecName('github.com/opencontainers/runc')).toBe('runc');
  });

  it('pins every staging module to the matching v0 release in the wrapper', () => {
    const recipe = kubernetesRecipe('1.34.4');
    expect(recipe.replaceStagingOf?.version).toBe('v0.34.4');
    const text = wrapperGoMod(recipe, ['k8s.io/api => k8s.io/api v0.34.4']);
    expect(text).toContain('require k8s.io/kubernetes v1.34.4');
    expect(text).toContain('replace k8s.io/api => k8s.io/api v0.34.4');
  });

  it('sets the version variables in both places kubectl and the servers read', () => {
    const variables = kubernetesRecipe('1.35.4').variables ?? {};
    expect(variables['k8s.io/component-base/version.gitVersion']).toBe('v1.35.4');
    expect(variables['k8s.io/client-go/pkg/version.gitVersion']).toBe('v1.35.4');
    expect(variables['k8s.io/client-go/pkg/version.gitMinor']).toBe('35');
  });

  it('gives every binary one bundle path, none twice', () => {
    const paths = [...COMPONENT_RECIPES, kubernetesRecipe('1.34.4')].flatMap((r) =>
      Object.values(r.packages),
    );
    expect(new Set(paths).size).toBe(paths.length);
    for (const recipe of COMPONENT_RECIPES) {
      const names = Object.keys(recipe.packages).map(defaultExecName);
      expect(new Set(names).size, recipe.component).toBe(names.length);
    }
  });

  it('a failed build names the component and shows the tail of the go output', () => {
    const output = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const error = new BuildError('etcd 3.6.16', 'go build', output);
    expect(error.message).toMatch(/^building etcd 3\.6\.16 failed at go build:/);
    expect(error.message).toContain('line 39');
    expect(error.message).not.toContain('line 19\n');
  });
});

describe('e2e image tags from the Kubernetes source', () => {
  it('reads pause, agnhost and busybox tags as test/utils/image/manifest.go declares them', () => {
    const manifestGo = [
      '\tconfigs[Agnhost] = Config{list.PromoterE2eRegistry, "agnhost", "2.59"}',
      '\tconfigs[BusyBox] = Config{list.PromoterE2eRegistry, "busybox", "1.37.0-1"}',
      '\tconfigs[Pause] = Config{list.GcRegistry, "pause", "3.10.1"}',
    ].join('\n');
    const tags = e2eImageTags(manifestGo);
    expect(`${tags.agnhost.name}:${tags.agnhost.tag}`).toBe('registry.k8s.io/e2e-test-images/agnhost:2.59');
    expect(`${tags.pause.name}:${tags.pause.tag}`).toBe('registry.k8s.io/pause:3.10.1');
    expect(tags.busybox.tag).toBe('1.37.0-1');
    expect(() => e2eImageTags('nothing here')).toThrow(/no Pause image tag/);
  });
});
