import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { type BundleManifest, sha256File } from '../artifacts/bundle.js';
import { KUBERNETES_BINARIES } from '../artifacts/catalog.js';

interface DebianSource {
  name: string;
  package: string;
  /** Path inside the package -> path inside the bundle. */
  files: Record<string, string>;
}

const DEBIAN_SOURCES: DebianSource[] = [
  { name: 'etcd', package: 'etcd-server', files: { 'usr/bin/etcd': 'bin/etcd' } },
  { name: 'etcdctl', package: 'etcd-client', files: { 'usr/bin/etcdctl': 'bin/etcdctl' } },
  {
    name: 'containerd',
    package: 'containerd',
    files: {
      'usr/bin/containerd': 'bin/containerd',
      'usr/bin/containerd-shim-runc-v2': 'bin/containerd-shim-runc-v2',
      'usr/bin/ctr': 'bin/ctr',
    },
  },
  { name: 'runc', package: 'runc', files: { 'usr/sbin/runc': 'bin/runc' } },
  { name: 'cni-plugins', package: 'containernetworking-plugins', files: { 'usr/lib/cni/': 'cni/bin/' } },
];

const ABSENT = [...KUBERNETES_BINARIES, 'crictl'].map((name) => ({
  name,
  reason:
    'Debian 12 does not package them (kubectl only as 1.20); copy the official release binaries for the cluster version into the bundle bin/ and list them in manifest.json',
}));

async function download(packages: string[], dir: string): Promise<void> {
  const attempt = () => execa('apt-get', ['download', '-q', ...packages], { cwd: dir, reject: false });
  let result = await attempt();
  if (result.exitCode !== 0) {
    await execa('apt-get', ['update', '-q']);
    result = await attempt();
  }
  if (result.exitCode !== 0)
    throw new Error(
      `apt-get download ${packages.join(' ')} failed: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
}

/** Builds the lab's bundle from Debian packages (apt-get download + dpkg-deb -x), once; later calls reuse it. */
export async function ensureDebianBundle(
  dir: string,
  say: (line: string) => void,
): Promise<{ dir: string; built: boolean }> {
  if (existsSync(join(dir, 'manifest.json'))) return { dir, built: false };
  say('building the lab artifact bundle from Debian packages (etcd, containerd, runc, CNI plugins)');
  const work = await mkdtemp(`${dir}.work-`);
  const staging = `${dir}.building`;
  try {
    await rm(staging, { recursive: true, force: true });
    await download(
      DEBIAN_SOURCES.map((s) => s.package),
      work,
    );
    const debs = await readdir(work);
    const artifacts: BundleManifest['artifacts'] = [];
    for (const source of DEBIAN_SOURCES) {
      const deb = debs.find((f) => f.startsWith(`${source.package}_`) && f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download did not produce ${source.package}`);
      const unpacked = join(work, source.package);
      await execa('dpkg-deb', ['-x', join(work, deb), unpacked]);
      const version = (await execa('dpkg-deb', ['-f', join(work, deb), 'Version'])).stdout.trim();
      const files: BundleManifest['artifacts'][number]['files'] = [];
      for (const [from, to] of Object.entries(source.files)) {
        const pairs = from.endsWith('/')
          ? (await readdir(join(unpacked, from))).map((f) => [`${from}${f}`, `${to}${f}`] as const)
          : [[from, to] as const];
        for (const [src, dest] of pairs) {
          await mkdir(join(staging, dest, '..'), { recursive: true });
          await copyFile(join(unpacked, src), join(staging, dest));
          await chmod(join(staging, dest), 0o755);
          files.push({
            path: dest,
            sha256: await sha256File(join(staging, dest)),
            size: (await stat(join(staging, dest))).size,
          });
        }
      }
      artifacts.push({
        name: source.name,
        version: version.replace(/^\d+:/, '').split(/[-+~]/)[0] ?? version,
        origin: `debian:${source.package}=${version}`,
        source: 'debian',
        files,
      });
    }
    const manifest: BundleManifest = {
      format: 1,
      createdAt: new Date().toISOString(),
      source: 'Debian 12 packages',
      artifacts,
      absent: ABSENT,
      images: [],
    };
    await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return { dir, built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
