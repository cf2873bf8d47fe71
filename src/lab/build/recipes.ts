/**
 * What the lab builds from the published Go modules when the official release downloads
 * cannot be reached: the one place its component versions are chosen. Each version's
 * `go` directive is satisfied by the local toolchain (Go 1.26; GOTOOLCHAIN=local).
 */

export interface GoRecipe {
  /** Component name in the bundle manifest. */
  component: string;
  /** Version as the manifest records it (no leading v). */
  version: string;
  module: string;
  moduleVersion: string;
  /** Import path of each main package -> bundle path of its binary. */
  packages: Record<string, string>;
  cgo?: boolean;
  tags?: string[];
  /** `-X` assignments; `{commitTime}` is replaced by the module's publication time. */
  variables?: Record<string, string>;
  /** Modules the wrapper must replace: a fixed version for every `require ... v0.0.0` of this module's go.mod. */
  replaceStagingOf?: { module: string; version: string };
  /** Sibling modules of the same repository to pin to the same version (relative replaces upstream). */
  pinSiblings?: string[];
  /** Further `replace` lines for the wrapper (`module => module version`): dependencies the proxy does not serve at the required version. */
  replaces?: string[];
  /** Extra linker flags after `-s -w -X …` (e.g. `-extldflags=-static` for a cgo binary put in an image). */
  ldflags?: string[];
  /** Import path of each test package -> bundle path of its `go test -c` binary (built after the binaries). */
  tests?: Record<string, string>;
  /** Bundle paths outside image-bin/ whose binary an image also carries: listed again as `image-bin/<file name>`. */
  alsoForImages?: string[];
}

export const LAB_KUBERNETES_VERSIONS = ['1.34.4', '1.35.4'] as const;

const kubeVersionVariables = (version: string): Record<string, string> => {
  const [major = '1', minor = '0'] = version.split('.');
  const values: Record<string, string> = {
    gitVersion: `v${version}`,
    gitMajor: major,
    gitMinor: minor,
    gitTreeState: 'clean',
    buildDate: '{commitTime}',
  };
  const out: Record<string, string> = {};
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'])
    for (const [name, value] of Object.entries(values)) out[`${pkg}.${name}`] = value;
  return out;
};

export function kubernetesRecipe(version: string): GoRecipe {
  const staging = `v0.${version.split('.').slice(1).join('.')}`;
  return {
    component: 'kubernetes',
    version,
    module: 'k8s.io/kubernetes',
    moduleVersion: `v${version}`,
    packages: {
      'k8s.io/kubernetes/cmd/kube-apiserver': 'bin/kube-apiserver',
      'k8s.io/kubernetes/cmd/kube-controller-manager': 'bin/kube-controller-manager',
      'k8s.io/kubernetes/cmd/kube-scheduler': 'bin/kube-scheduler',
      'k8s.io/kubernetes/cmd/kubelet': 'bin/kubelet',
      'k8s.io/kubernetes/cmd/kube-proxy': 'bin/kube-proxy',
      'k8s.io/kubernetes/cmd/kubectl': 'bin/kubectl',
      'k8s.io/kubernetes/test/images/agnhost': 'image-bin/agnhost',
    },
    // Kubernetes' e2e suite, for `verify --conformance`: only for the version the lab runs
    // (a cold build costs about as much as all the binaries together).
    ...(version === LAB_KUBERNETES_VERSIONS[0]
      ? { tests: { 'k8s.io/kubernetes/test/e2e': 'bin/e2e.test' } }
      : {}),
    // Upstream's release flags (hack/lib/golang.sh); every binary static.
    tags: ['selinux', 'notest', 'grpcnotrace'],
    variables: kubeVersionVariables(version),
    replaceStagingOf: { module: 'k8s.io/kubernetes', version: staging },
  };
}

const ETCD = '3.6.16';
const CONTAINERD = '2.2.9';
const RUNC = '1.3.4';
const CNI = '1.9.1';
const CRICTL = '1.34.0';
/** kubeadm's CoreDNS for 1.34 (cmd/kubeadm/app/constants). */
const COREDNS = '1.12.1';
const METRICS_SERVER = '0.8.0';
const FLANNEL = '0.28.9';
/**
 * The flannel CNI plugin: flannel-io/cni-plugin (what the manifest's flannel-cni-plugin
 * image carries) is not on the proxy at v1.9.1-flannel*, so this is the same plugin from
 * containernetworking/plugins v0.9.1, which still had plugins/meta/flannel (v1.0.1 has
 * not). It speaks CNI 0.1.0 … 0.4.0; the manifest's conflist says 0.3.1.
 */
const FLANNEL_CNI = '0.9.1';
const TENCENTCLOUD_SDK = 'github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud';

export const COMPONENT_RECIPES: GoRecipe[] = [
  {
    component: 'etcd',
    version: ETCD,
    module: 'go.etcd.io/etcd/server/v3',
    moduleVersion: `v${ETCD}`,
    packages: {
      'go.etcd.io/etcd/server/v3': 'bin/etcd',
      'go.etcd.io/etcd/etcdctl/v3': 'bin/etcdctl',
      'go.etcd.io/etcd/etcdutl/v3': 'bin/etcdutl',
    },
    // etcd's modules point at each other with relative replaces, which a dependency cannot use.
    pinSiblings: [
      'go.etcd.io/etcd/api/v3',
      'go.etcd.io/etcd/client/pkg/v3',
      'go.etcd.io/etcd/client/v3',
      'go.etcd.io/etcd/pkg/v3',
      'go.etcd.io/etcd/server/v3',
      'go.etcd.io/etcd/etcdctl/v3',
      'go.etcd.io/etcd/etcdutl/v3',
    ],
  },
  {
    component: 'containerd',
    version: CONTAINERD,
    module: 'github.com/containerd/containerd/v2',
    moduleVersion: `v${CONTAINERD}`,
    packages: {
      'github.com/containerd/containerd/v2/cmd/containerd': 'bin/containerd',
      'github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2': 'bin/containerd-shim-runc-v2',
      'github.com/containerd/containerd/v2/cmd/ctr': 'bin/ctr',
    },
    // Without cgo the btrfs snapshotter drops out, as in upstream's static shim.
    tags: ['no_btrfs'],
    variables: {
      'github.com/containerd/containerd/v2/version.Version': `v${CONTAINERD}`,
      'github.com/containerd/containerd/v2/version.Package': 'github.com/containerd/containerd/v2',
    },
  },
  {
    component: 'runc',
    version: RUNC,
    module: 'github.com/opencontainers/runc',
    moduleVersion: `v${RUNC}`,
    packages: { 'github.com/opencontainers/runc': 'bin/runc' },
    // libcontainer/nsenter is C; seccomp links Debian's libseccomp.
    cgo: true,
    tags: ['seccomp'],
  },
  {
    component: 'cni-plugins',
    version: CNI,
    module: 'github.com/containernetworking/plugins',
    moduleVersion: `v${CNI}`,
    packages: Object.fromEntries(
      [
        'main/bridge',
        'main/loopback',
        'main/ptp',
        'main/host-device',
        'main/macvlan',
        'main/ipvlan',
        'main/vlan',
        'ipam/host-local',
        'ipam/static',
        'meta/portmap',
        'meta/bandwidth',
        'meta/tuning',
        'meta/firewall',
      ].map((p) => [`github.com/containernetworking/plugins/plugins/${p}`, `cni/bin/${p.split('/')[1]}`]),
    ),
    variables: { 'github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion': `v${CNI}` },
  },
  {
    component: 'crictl',
    version: CRICTL,
    module: 'sigs.k8s.io/cri-tools',
    moduleVersion: `v${CRICTL}`,
    packages: { 'sigs.k8s.io/cri-tools/cmd/crictl': 'bin/crictl' },
    variables: { 'sigs.k8s.io/cri-tools/pkg/version.Version': CRICTL },
  },
  // Binaries for images only (image-bin/): the cluster runs them as pods.
  {
    component: 'coredns',
    version: COREDNS,
    module: 'github.com/coredns/coredns',
    moduleVersion: `v${COREDNS}`,
    packages: { 'github.com/coredns/coredns': 'image-bin/coredns' },
  },
  {
    component: 'metrics-server',
    version: METRICS_SERVER,
    module: 'sigs.k8s.io/metrics-server',
    moduleVersion: `v${METRICS_SERVER}`,
    packages: { 'sigs.k8s.io/metrics-server/cmd/metrics-server': 'image-bin/metrics-server' },
    variables: { 'k8s.io/component-base/version.gitVersion': `v${METRICS_SERVER}` },
  },
  {
    component: 'flannel',
    version: FLANNEL,
    module: 'github.com/flannel-io/flannel',
    moduleVersion: `v${FLANNEL}`,
    packages: {
      'github.com/flannel-io/flannel': 'image-bin/flanneld',
      'github.com/flannel-io/flannel/cmd/install_conf': 'image-bin/install-conf',
    },
    // The udp backend is cgo; upstream links flanneld statically on amd64 (its Makefile).
    cgo: true,
    ldflags: ['-extldflags=-static'],
    variables: { 'github.com/flannel-io/flannel/pkg/version.Version': `v${FLANNEL}` },
    // flannel requires the Tencent Cloud SDK at v1.3.149, not on the proxy; its tencentvpc
    // backend compiles against v1.0.1000 (served) unchanged.
    replaces: ['common', 'vpc'].map((m) => `${TENCENTCLOUD_SDK}/${m} => ${TENCENTCLOUD_SDK}/${m} v1.0.1000`),
  },
  {
    component: 'flannel-cni',
    version: FLANNEL_CNI,
    module: 'github.com/containernetworking/plugins',
    moduleVersion: `v${FLANNEL_CNI}`,
    packages: { 'github.com/containernetworking/plugins/plugins/meta/flannel': 'cni/bin/flannel' },
    variables: {
      'github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion': `v${FLANNEL_CNI}`,
    },
    alsoForImages: ['cni/bin/flannel'],
  },
];

/**
 * Images the lab assembles, under the exact names the manifests and Kubernetes' e2e suite ask
 * for. The e2e suite's own (pause, agnhost, busybox) take their tags from the Kubernetes
 * source being built (test/utils/image/manifest.go); these are for the addons.
 */
export const LAB_IMAGES = {
  coredns: { name: 'registry.k8s.io/coredns/coredns', tag: `v${COREDNS}` },
  metricsServer: { name: 'registry.k8s.io/metrics-server/metrics-server', tag: `v${METRICS_SERVER}` },
  flannel: { name: 'ghcr.io/flannel-io/flannel', tag: `v${FLANNEL}` },
  /** The manifest's name; inside is containernetworking/plugins v0.9.1's flannel (FLANNEL_CNI). */
  flannelCni: { name: 'ghcr.io/flannel-io/flannel-cni-plugin', tag: 'v1.9.1-flannel3' },
} as const;
