import { describe, expect, it } from 'vitest';
import {
  BuildError,
  defaultExecName,
  imageBinPath,
  linkerFlags,
  stagingModules,
  wrapperGoMod,
  wrapperReplaces,
} from '../../../src/lab/build/go.js';
import { e2eImageTags } from '../../../src/lab/build/images.js';
import {
  COMPONENT_RECIPES,
  type GoRecipe,
  kubernetesRecipe,
  LAB_IMAGES,
} from '../../../src/lab/build/recipes.js';

const recipe = (component: string): GoRecipe => {
  const found = COMPONENT_RECIPES.find((r) => r.component === component);
  if (!found) throw new Error(`no ${component} recipe`);
  return found;
};

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
    const imagePaths = COMPONENT_RECIPES.flatMap((r) => (r.alsoForImages ?? []).map(imageBinPath));
    const all = [...paths, ...imagePaths];
    expect(new Set(all).size).toBe(all.length);
    for (const r of COMPONENT_RECIPES) {
      const names = Object.keys(r.packages).map(defaultExecName);
      expect(new Set(names).size, r.component).toBe(names.length);
      for (const path of r.alsoForImages ?? [])
        expect(Object.values(r.packages), r.component).toContain(path);
    }
  });

  it('keeps the staging and sibling replaces, then adds the recipe replaces', () => {
    const kubernetes = wrapperReplaces(kubernetesRecipe('1.34.4'), KUBERNETES_GO_MOD);
    expect(kubernetes).toEqual([
      'k8s.io/api => k8s.io/api v0.34.4',
      'k8s.io/kubectl => k8s.io/kubectl v0.34.4',
      'k8s.io/cri-client => k8s.io/cri-client v0.34.4',
    ]);
    expect(wrapperReplaces(recipe('etcd'), '')).toContain(
      'go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.16',
    );
    expect(wrapperReplaces(recipe('containerd'), '')).toEqual([]);
  });

  it('builds flanneld against the Tencent Cloud SDK the proxy serves, statically with cgo', () => {
    const flannel = recipe('flannel');
    const sdk = 'github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud';
    const text = wrapperGoMod(flannel, wrapperReplaces(flannel, ''));
    expect(text).toContain('require github.com/flannel-io/flannel v0.28.9');
    expect(text).toContain(`replace ${sdk}/common => ${sdk}/common v1.0.1000`);
    expect(text).toContain(`replace ${sdk}/vpc => ${sdk}/vpc v1.0.1000`);
    expect(flannel.cgo).toBe(true);
    expect(linkerFlags(flannel, '2025-01-01T00:00:00Z')).toBe(
      '-s -w -X github.com/flannel-io/flannel/pkg/version.Version=v0.28.9 -extldflags=-static',
    );
    expect(Object.values(flannel.packages)).toEqual(['image-bin/flanneld', 'image-bin/install-conf']);
    expect(Object.keys(flannel.packages).map(defaultExecName)).toEqual(['flannel', 'install_conf']);
  });

  it('puts the flannel CNI plugin in cni/bin and in the images, from containernetworking/plugins v0.9.1', () => {
    const cni = recipe('flannel-cni');
    expect(`${cni.module}@${cni.moduleVersion}`).toBe('github.com/containernetworking/plugins@v0.9.1');
    expect(cni.packages).toEqual({
      'github.com/containernetworking/plugins/plugins/meta/flannel': 'cni/bin/flannel',
    });
    expect(cni.alsoForImages).toEqual(['cni/bin/flannel']);
    expect(imageBinPath('cni/bin/flannel')).toBe('image-bin/flannel');
    expect(cni.cgo).toBeFalsy();
    expect(linkerFlags(cni, '')).toBe(
      '-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v0.9.1',
    );
  });

  it('lists the {commitTime} variable with the module time and no extra linker flags by default', () => {
    expect(linkerFlags(kubernetesRecipe('1.34.4'), 'T0')).toContain(
      '-X k8s.io/component-base/version.buildDate=T0',
    );
    expect(linkerFlags(recipe('crictl'), 'T0')).toBe(
      '-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=1.34.0',
    );
  });

  it('names the flannel images as the upstream manifest does', () => {
    expect(`${LAB_IMAGES.flannel.name}:${LAB_IMAGES.flannel.tag}`).toBe('ghcr.io/flannel-io/flannel:v0.28.9');
    expect(`${LAB_IMAGES.flannelCni.name}:${LAB_IMAGES.flannelCni.tag}`).toBe(
      'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
    );
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
