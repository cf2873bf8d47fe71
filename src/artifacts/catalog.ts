import { minorOf } from '../inventory/versions.js';
import { catalogPin } from './pins.js';

/**
 * What each supported Kubernetes minor installs, and where the official builds live.
 * Checksums come from each project's published files at the official origin (never from a
 * mirror); a sha256 pinned in pins.ts (or in the inventory's artifacts.sha256) wins.
 */
export type Arch = 'amd64' | 'arm64';

export function archOf(uname: string): Arch {
  if (uname === 'x86_64') return 'amd64';
  if (uname === 'aarch64') return 'arm64';
  throw new Error(`unsupported architecture ${uname}`);
}

export interface CatalogEntry {
  name: string;
  version: string;
  url: string;
  /**
   * The published checksum file at the official origin, the file name to look up in it
   * (omitted: the file holds one hash), and the sha256 pinned in the catalog when one is known.
   */
  checksum: { url: string; entry?: string; sha256?: string };
  /** tgz: an archive; files maps paths inside it to paths in the bundle. file: a single binary. */
  archive: 'tgz' | 'file';
  files: Record<string, string>;
}

interface ComponentVersions {
  etcd: string;
  containerd: string;
  runc: string;
  cni: string;
  crictl: string;
  nerdctl: string;
}

/** etcd follows kubeadm's SupportedEtcdVersion; the runtime pieces are the releases current with each minor. */
export const COMPONENTS: Record<string, ComponentVersions> = {
  '1.34': {
    etcd: '3.6.7',
    containerd: '2.1.4',
    runc: '1.3.0',
    cni: '1.7.1',
    crictl: '1.34.0',
    nerdctl: '2.1.2',
  },
  '1.35': {
    etcd: '3.6.7',
    containerd: '2.1.4',
    runc: '1.3.0',
    cni: '1.7.1',
    crictl: '1.35.0',
    nerdctl: '2.1.2',
  },
  '1.36': {
    etcd: '3.6.7',
    containerd: '2.2.0',
    runc: '1.3.3',
    cni: '1.8.0',
    crictl: '1.36.0',
    nerdctl: '2.2.1',
  },
  '1.37': {
    etcd: '3.6.7',
    containerd: '2.2.0',
    runc: '1.3.3',
    cni: '1.8.0',
    crictl: '1.37.0',
    nerdctl: '2.2.1',
  },
};

const GITHUB = 'https://github.com';
export const KUBERNETES_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
  'kubectl',
] as const;

/** The catalog's entries with the sha256 pinned for their version and arch, where pins.ts has one. */
export function catalogFor(kubernetesVersion: string, arch: Arch): CatalogEntry[] {
  return entriesFor(kubernetesVersion, arch).map((entry) => {
    const sha256 = catalogPin(entry.name, entry.version, arch);
    return sha256 ? { ...entry, checksum: { ...entry.checksum, sha256 } } : entry;
  });
}

function entriesFor(kubernetesVersion: string, arch: Arch): CatalogEntry[] {
  const v = COMPONENTS[minorOf(kubernetesVersion)];
  if (!v) throw new Error(`no artifact catalog for Kubernetes ${kubernetesVersion}`);
  const etcdDir = `etcd-v${v.etcd}-linux-${arch}`;
  return [
    {
      name: 'etcd',
      version: v.etcd,
      url: `${GITHUB}/etcd-io/etcd/releases/download/v${v.etcd}/${etcdDir}.tar.gz`,
      checksum: {
        url: `${GITHUB}/etcd-io/etcd/releases/download/v${v.etcd}/SHA256SUMS`,
        entry: `${etcdDir}.tar.gz`,
      },
      archive: 'tgz',
      files: {
        [`${etcdDir}/etcd`]: 'bin/etcd',
        [`${etcdDir}/etcdctl`]: 'bin/etcdctl',
        [`${etcdDir}/etcdutl`]: 'bin/etcdutl',
      },
    },
    {
      name: 'containerd',
      version: v.containerd,
      url: `${GITHUB}/containerd/containerd/releases/download/v${v.containerd}/containerd-${v.containerd}-linux-${arch}.tar.gz`,
      checksum: {
        url: `${GITHUB}/containerd/containerd/releases/download/v${v.containerd}/containerd-${v.containerd}-linux-${arch}.tar.gz.sha256sum`,
      },
      archive: 'tgz',
      files: {
        'bin/containerd': 'bin/containerd',
        'bin/containerd-shim-runc-v2': 'bin/containerd-shim-runc-v2',
        'bin/ctr': 'bin/ctr',
      },
    },
    {
      name: 'runc',
      version: v.runc,
      url: `${GITHUB}/opencontainers/runc/releases/download/v${v.runc}/runc.${arch}`,
      checksum: {
        url: `${GITHUB}/opencontainers/runc/releases/download/v${v.runc}/runc.sha256sum`,
        entry: `runc.${arch}`,
      },
      archive: 'file',
      files: { [`runc.${arch}`]: 'bin/runc' },
    },
    {
      name: 'cni-plugins',
      version: v.cni,
      url: `${GITHUB}/containernetworking/plugins/releases/download/v${v.cni}/cni-plugins-linux-${arch}-v${v.cni}.tgz`,
      checksum: {
        url: `${GITHUB}/containernetworking/plugins/releases/download/v${v.cni}/cni-plugins-linux-${arch}-v${v.cni}.tgz.sha256`,
      },
      archive: 'tgz',
      files: Object.fromEntries(
        [
          'bridge',
          'host-local',
          'loopback',
          'portmap',
          'bandwidth',
          'tuning',
          'vlan',
          'ptp',
          'host-device',
          'firewall',
          'macvlan',
          'ipvlan',
          'sbr',
          'static',
          'vrf',
          'dhcp',
        ].map((p) => [`./${p}`, `cni/bin/${p}`]),
      ),
    },
    {
      name: 'crictl',
      version: v.crictl,
      url: `${GITHUB}/kubernetes-sigs/cri-tools/releases/download/v${v.crictl}/crictl-v${v.crictl}-linux-${arch}.tar.gz`,
      checksum: {
        url: `${GITHUB}/kubernetes-sigs/cri-tools/releases/download/v${v.crictl}/crictl-v${v.crictl}-linux-${arch}.tar.gz.sha256`,
      },
      archive: 'tgz',
      files: { crictl: 'bin/crictl' },
    },
    {
      // Optional: installed only with artifacts.nerdctl (a docker-like CLI for containerd).
      name: 'nerdctl',
      version: v.nerdctl,
      url: `${GITHUB}/containerd/nerdctl/releases/download/v${v.nerdctl}/nerdctl-${v.nerdctl}-linux-${arch}.tar.gz`,
      checksum: {
        url: `${GITHUB}/containerd/nerdctl/releases/download/v${v.nerdctl}/SHA256SUMS`,
        entry: `nerdctl-${v.nerdctl}-linux-${arch}.tar.gz`,
      },
      archive: 'tgz',
      files: { nerdctl: 'bin/nerdctl' },
    },
    ...KUBERNETES_BINARIES.map(
      (name): CatalogEntry => ({
        name,
        version: kubernetesVersion,
        url: `https://dl.k8s.io/release/v${kubernetesVersion}/bin/linux/${arch}/${name}`,
        checksum: { url: `https://dl.k8s.io/release/v${kubernetesVersion}/bin/linux/${arch}/${name}.sha256` },
        archive: 'file',
        files: { [name]: `bin/${name}` },
      }),
    ),
  ];
}

/**
 * Rewrites a URL by the longest matching prefix in artifacts.mirrors. Only for the files
 * themselves: checksum files are always fetched from the official origin.
 */
export function mirrored(url: string, mirrors: Readonly<Record<string, string>>): string {
  const prefix = Object.keys(mirrors)
    .filter((p) => url.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? `${mirrors[prefix]}${url.slice(prefix.length)}` : url;
}

/**
 * Kubernetes' e2e suite (`e2e.test`) from the official test tarball, for `verify --conformance`.
 * Not part of catalogFor: hosts never get it, and it is fetched only when conformance runs.
 */
export function e2eTestEntry(kubernetesVersion: string, arch: Arch): CatalogEntry {
  const file = `kubernetes-test-linux-${arch}.tar.gz`;
  const url = `https://dl.k8s.io/release/v${kubernetesVersion}/${file}`;
  return {
    name: 'kubernetes-test',
    version: kubernetesVersion,
    url,
    checksum: { url: `${url}.sha256` },
    archive: 'tgz',
    files: { 'kubernetes/test/bin/e2e.test': 'bin/e2e.test' },
  };
}
