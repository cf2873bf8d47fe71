import { existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { MIRROR, SUITE } from '../base.js';
import { jessieDnsutilsImage, jessieDnsutilsRef, manifestImageTag } from './e2e-images.js';
import { BuildError } from './go.js';
import { type ImageArchive, layerFromDirectory, writeImageArchive } from './image.js';
import { LAB_IMAGES } from './recipes.js';

/**
 * One Debian userland under the images that need one: e2e tests exec sh, curl, dig, nc and
 * ip in agnhost; flanneld execs iptables(-save/-restore) and nft.
 */
const USERLAND_PACKAGES = [
  'curl',
  'bind9-dnsutils',
  'iproute2',
  'netcat-openbsd',
  'iputils-ping',
  'ca-certificates',
  'iptables',
  'nftables',
];

const ref = (image: { name: string; tag: string }) => `${image.name}:${image.tag}`;

/** The e2e suite's images this lab builds, with the tags the given Kubernetes source asks for. */
export type E2eImages = Record<'pause' | 'agnhost' | 'busybox', { name: string; tag: string }>;

export function e2eImageTags(manifestGo: string): E2eImages {
  const tag = (key: string, repo: string) => manifestImageTag(manifestGo, key, repo);
  return {
    pause: { name: 'registry.k8s.io/pause', tag: tag('Pause', 'pause') },
    agnhost: { name: 'registry.k8s.io/e2e-test-images/agnhost', tag: tag('Agnhost', 'agnhost') },
    busybox: { name: 'registry.k8s.io/e2e-test-images/busybox', tag: tag('BusyBox', 'busybox') },
  };
}

/** pause from the kubernetes module's own source, static, as upstream builds it. */
async function pauseImage(
  kubernetesSource: string,
  image: E2eImages['pause'],
  dir: string,
): Promise<ImageArchive> {
  const root = join(dir, 'pause-root');
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const source = join(kubernetesSource, 'build', 'pause', 'linux', 'pause.c');
  const result = await execa(
    'gcc',
    ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${image.tag}`, '-o', join(root, 'pause'), source],
    { reject: false, all: true },
  );
  if (result.exitCode !== 0) throw new BuildError('pause', `gcc ${source}`, result.all ?? '');
  await execa('strip', [join(root, 'pause')]);
  const layer = await layerFromDirectory(root, join(dir, 'pause-layer.tar'));
  return writeImageArchive(
    ref(image),
    [layer],
    { entrypoint: ['/pause'], user: '65535:65535' },
    join(dir, 'pause.tar'),
  );
}

async function debianPackageFiles(pkg: string, dir: string): Promise<string> {
  const work = await mkdtemp(join(dir, `${pkg}-`));
  let result = await execa('apt-get', ['download', '-q', pkg], { cwd: work, reject: false, all: true });
  if (result.exitCode !== 0) {
    await execa('apt-get', ['update', '-q']);
    result = await execa('apt-get', ['download', '-q', pkg], { cwd: work, reject: false, all: true });
  }
  if (result.exitCode !== 0) throw new BuildError(pkg, 'apt-get download', result.all ?? '');
  const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new BuildError(pkg, 'apt-get download', 'no .deb file');
  await execa('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
  return join(work, 'root');
}

/** Debian's static busybox with its applets linked in /bin, and a passwd: the busybox image's one layer. */
async function busyboxLayer(dir: string): Promise<{ file: string; diffId: string }> {
  const unpacked = await debianPackageFiles('busybox-static', dir);
  const root = join(dir, 'busybox-root');
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, 'bin'), { recursive: true });
  await copyFile(join(unpacked, 'bin', 'busybox'), join(root, 'bin', 'busybox'));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  const applets = (await execa(join(root, 'bin', 'busybox'), ['--list'])).stdout.split('\n').filter(Boolean);
  for (const applet of applets) if (applet !== 'busybox') await symlink('busybox', join(root, 'bin', applet));
  for (const d of ['tmp', 'etc']) await mkdir(join(root, d), { recursive: true });
  await writeFile(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await rm(join(unpacked, '..'), { recursive: true, force: true });
  return layerFromDirectory(root, join(dir, 'busybox-layer.tar'));
}

/** A shell image for test pods. */
async function busyboxImage(
  image: E2eImages['busybox'],
  layer: { file: string; diffId: string },
  dir: string,
): Promise<ImageArchive> {
  return writeImageArchive(
    ref(image),
    [layer],
    { entrypoint: [], cmd: ['sh'], env: ['PATH=/bin'] },
    join(dir, 'busybox.tar'),
  );
}

/** A directory holding the given binaries at the given paths (mode 0755): an image's upper layer. */
async function binariesLayer(
  name: string,
  files: Record<string, string>,
  dir: string,
): Promise<{ file: string; diffId: string }> {
  const root = join(dir, `${name}-root`);
  await rm(root, { recursive: true, force: true });
  for (const [path, from] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await copyFile(from, join(root, path));
    await chmod(join(root, path), 0o755);
  }
  return layerFromDirectory(root, join(dir, `${name}-layer.tar`));
}

/**
 * flannel as the manifest runs it: /opt/bin/flanneld and /opt/bin/install-conf over the
 * Debian userland (flanneld execs iptables and nft; install-conf is run as an init container).
 */
async function flannelImage(binaries: ImageBinaries, dir: string): Promise<ImageArchive> {
  const lower = await userlandLayer(dir);
  const upper = await binariesLayer(
    'flannel',
    {
      'opt/bin/flanneld': binary(binaries, 'flanneld'),
      'opt/bin/install-conf': binary(binaries, 'install-conf'),
    },
    dir,
  );
  return writeImageArchive(
    ref(LAB_IMAGES.flannel),
    [lower, upper],
    { entrypoint: ['/opt/bin/flanneld'] },
    join(dir, 'flannel.tar'),
  );
}

/**
 * The manifest's flannel-cni-plugin image: its init container runs `cp -f /flannel
 * /opt/cni/bin/flannel`, so /flannel over the busybox layer (cp). Under flannel-io's name,
 * but /flannel is containernetworking/plugins v0.9.1's flannel plugin (recipes.ts).
 */
async function flannelCniImage(
  binaries: ImageBinaries,
  busybox: { file: string; diffId: string },
  dir: string,
): Promise<ImageArchive> {
  const upper = await binariesLayer('flannel-cni', { flannel: binary(binaries, 'flannel') }, dir);
  return writeImageArchive(
    ref(LAB_IMAGES.flannelCni),
    [busybox, upper],
    { entrypoint: ['cp'], cmd: ['-f', '/flannel', '/opt/cni/bin/flannel'], env: ['PATH=/bin'] },
    join(dir, 'flannel-cni.tar'),
  );
}

/**
 * A Debian userland (minbase plus the network tools), the lower layer of agnhost, flannel and
 * jessie-dnsutils. Built once beside the per-version image dirs and shared by them: debootstrap
 * stamps the day into files, so two builds differ, and so would every image over them.
 */
async function userlandLayer(dir: string): Promise<{ file: string; diffId: string }> {
  const shared = join(dirname(dir), 'image-userland');
  await mkdir(shared, { recursive: true });
  const root = join(shared, 'root');
  const marker = join(shared, 'packages');
  const wanted = `${SUITE} ${USERLAND_PACKAGES.join(',')}\n`;
  const tar = join(shared, 'layer.tar');
  if (!existsSync(root) || (await readFile(marker, 'utf8').catch(() => '')) !== wanted) {
    const staging = `${root}.building`;
    await rm(staging, { recursive: true, force: true });
    const result = await execa(
      'debootstrap',
      ['--variant=minbase', `--include=${USERLAND_PACKAGES.join(',')}`, SUITE, staging, MIRROR],
      { reject: false, all: true },
    );
    if (result.exitCode !== 0) throw new BuildError('agnhost userland', 'debootstrap', result.all ?? '');
    for (const path of [
      'usr/share/doc',
      'usr/share/man',
      'usr/share/locale',
      'usr/share/info',
      'var/cache/apt',
      'var/lib/apt/lists',
      'var/log',
    ])
      await rm(join(staging, path), { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
    await rename(staging, root);
    await rm(tar, { force: true });
    await writeFile(marker, wanted);
  }
  return layerFromDirectory(root, tar);
}

async function agnhostImage(
  agnhostBinary: string,
  image: E2eImages['agnhost'],
  dir: string,
): Promise<ImageArchive> {
  const lower = await userlandLayer(dir);
  const root = join(dir, 'agnhost-root');
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await copyFile(agnhostBinary, join(root, 'agnhost'));
  await chmod(join(root, 'agnhost'), 0o755);
  // The upstream image answers to both names.
  await symlink('agnhost', join(root, 'agnhost-2'));
  const upper = await layerFromDirectory(root, join(dir, 'agnhost-layer.tar'));
  return writeImageArchive(
    ref(image),
    [lower, upper],
    { entrypoint: ['/agnhost'], cmd: ['pause'] },
    join(dir, 'agnhost.tar'),
  );
}

/** A static Go binary alone in its image, run as `user`. */
async function binaryImage(
  image: { name: string; tag: string },
  binary: string,
  dir: string,
  config: { user?: string },
): Promise<ImageArchive> {
  const name = binary.split('/').pop()!;
  const root = join(dir, `${name}-root`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await copyFile(binary, join(root, name));
  await chmod(join(root, name), 0o755);
  const layer = await layerFromDirectory(root, join(dir, `${name}-layer.tar`));
  return writeImageArchive(
    ref(image),
    [layer],
    { entrypoint: [`/${name}`], ...config },
    join(dir, `${name}.tar`),
  );
}

/** Built binaries the images are made of, by file name (agnhost, coredns, ...). */
export type ImageBinaries = ReadonlyMap<string, string>;

function binary(binaries: ImageBinaries, name: string): string {
  const path = binaries.get(name);
  if (!path) throw new BuildError('images', 'assembling', `no built ${name} binary`);
  return path;
}

/** Assembles the lab's images into `dir` from built binaries and Debian packages. */
export async function buildLabImages(
  inputs: { kubernetesSource: string; binaries: ImageBinaries },
  dir: string,
): Promise<ImageArchive[]> {
  await mkdir(dir, { recursive: true });
  const { binaries } = inputs;
  const manifestGo = await readFile(
    join(inputs.kubernetesSource, 'test', 'utils', 'image', 'manifest.go'),
    'utf8',
  );
  const e2e = e2eImageTags(manifestGo);
  const busybox = await busyboxLayer(dir);
  return [
    await pauseImage(inputs.kubernetesSource, e2e.pause, dir),
    await agnhostImage(binary(binaries, 'agnhost'), e2e.agnhost, dir),
    await busyboxImage(e2e.busybox, busybox, dir),
    await jessieDnsutilsImage(jessieDnsutilsRef(manifestGo), await userlandLayer(dir), dir),
    // The upstream images run CoreDNS as root (it binds :53) and metrics-server as nobody.
    await binaryImage(LAB_IMAGES.coredns, binary(binaries, 'coredns'), dir, {}),
    await binaryImage(LAB_IMAGES.metricsServer, binary(binaries, 'metrics-server'), dir, { user: '65534' }),
    await flannelImage(binaries, dir),
    await flannelCniImage(binaries, busybox, dir),
  ];
}
