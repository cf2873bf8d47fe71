import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleManifest } from '../../../src/artifacts/bundle.js';
import { type CatalogEntry, catalogFor } from '../../../src/artifacts/catalog.js';
import { resolveImages } from '../../../src/artifacts/images.js';
import { RegistryError } from '../../../src/artifacts/registry.js';
import { openCluster } from '../../../src/commands/context.js';
import { download, imageArchivePath } from '../../../src/commands/download.js';
import { InputError } from '../../../src/errors.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { CraneRegistry, craneBinary, goMissing, RegistryProxy } from '../artifacts/registry-fixture.js';

const VERSION = '1.34.3';
const UPSTREAMS = ['https://github.com', 'https://dl.k8s.io'];

/**
 * A real HTTP server on 127.0.0.1 laid out like the upstream release pages of every catalog
 * entry (archives with the catalog's member paths, checksum files in each project's format),
 * with test payloads instead of the real binaries, which cannot be fetched here.
 */
class FakeUpstream {
  readonly files = new Map<string, Buffer>();
  readonly payloads = new Map<string, Buffer>();
  /** The upstream URLs asked for through the mirror. */
  readonly requests: string[] = [];
  /** The sha256 of each artifact by downloaded file name, as artifacts.sha256 pins it. */
  readonly pins = new Map<string, string>();
  private server: Server | undefined;
  base = '';

  async build(entries: CatalogEntry[], work: string): Promise<void> {
    const sums = new Map<string, string[]>();
    for (const entry of entries) {
      let artifact: Buffer;
      if (entry.archive === 'tgz') {
        const root = join(work, entry.name);
        for (const [member, bundlePath] of Object.entries(entry.files)) {
          const payload = Buffer.concat([Buffer.from(`${bundlePath}\n`), randomBytes(4096)]);
          this.payloads.set(bundlePath, payload);
          mkdirSync(dirname(join(root, member)), { recursive: true });
          writeFileSync(join(root, member), payload, { mode: 0o755 });
        }
        const tgz = join(work, `${entry.name}.tgz`);
        await execa('tar', ['-czf', tgz, '-C', root, '.']);
        artifact = readFileSync(tgz);
      } else {
        artifact = Buffer.concat([Buffer.from(`${entry.name}\n`), randomBytes(4096)]);
        this.payloads.set(Object.values(entry.files)[0]!, artifact);
      }
      this.files.set(entry.url, artifact);
      const sha = createHash('sha256').update(artifact).digest('hex');
      this.pins.set(basename(entry.url), sha);
      const name = entry.checksum.entry ?? basename(entry.url);
      sums.set(entry.checksum.url, [...(sums.get(entry.checksum.url) ?? []), `${sha}  ${name}`]);
    }
    for (const [url, lines] of sums) this.files.set(url, Buffer.from(`${lines.join('\n')}\n`));
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const upstream = `https://${req.url?.slice(1)}`;
      this.requests.push(upstream);
      const body = this.files.get(upstream);
      res.statusCode = body ? 200 : 404;
      res.end(body ?? 'not found');
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/**
 * An inventory whose artifacts come through the local (plain-HTTP, so explicitly allowed) mirror,
 * and whose images come from a loopback registry (plain http: the registry client allows it
 * for 127.0.0.0/8 and localhost only).
 */
function inventoryText(mirrors: string, pins: [string, string][], imageRegistry = registryHost): string {
  const sha256 = pins.map(([name, sha]) => `    ${name}: "${sha}"`).join('\n');
  return `cluster: { name: offline, kubernetesVersion: ${VERSION}, imageRegistry: "${imageRegistry}" }\nssh: { identityFile: ${work}/id_ed25519 }\nartifacts:\n  allowInsecureMirrors: true\n  mirrors:\n${mirrors}\n  sha256:\n${sha256}\nhosts:\n  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }\n`;
}
let work: string;
let registryHost = '';

const unavailable = skipWithout(
  'kubesmith download --bundle (images from crane registry serve)',
  goMissing(),
);

describe.skipIf(unavailable)(
  'kubesmith download --bundle, end to end against a local HTTP server and a real registry',
  () => {
    const upstream = new FakeUpstream();
    let registry: CraneRegistry;
    const proxy = new RegistryProxy(() => registry.host);
    /** The images pushed to the registry: what the catalog names for 1.34 through imageRegistry. */
    const pushed = new Map<string, Awaited<ReturnType<CraneRegistry['pushImage']>>>();
    let inventoryFile: string;
    let unpinnedFile: string;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'ks-download-'));
      process.env.KUBESMITH_CACHE = join(work, 'cache');
      registry = new CraneRegistry(await craneBinary());
      await registry.start();
      await proxy.start();
      registryHost = registry.host;
      for (const [repo, tag] of [
        ['pause', '3.10.1'],
        ['coredns', 'v1.12.1'],
        ['metrics-server', 'v0.8.0'],
        ['k8s-dns-node-cache', '1.26.4'],
        ['agnhost', '2.56'],
      ] as const)
        pushed.set(
          `${registry.host}/${repo}:${tag}`,
          await registry.pushImage(
            work,
            `${repo}:${tag}`,
            { [repo]: `${repo} ${tag}\n` },
            { arch: 'amd64', oci: repo === 'pause', entrypoint: `/${repo}` },
          ),
        );
      await upstream.build(catalogFor(VERSION, 'amd64'), join(work, 'upstream'));
      await upstream.start();
      const mirrors = UPSTREAMS.map((u) => `    ${u}: ${upstream.base}/${u.slice('https://'.length)}`).join(
        '\n',
      );
      inventoryFile = join(work, 'inventory.yaml');
      writeFileSync(join(work, 'id_ed25519'), 'never used: download touches no host\n', { mode: 0o600 });
      // The test payloads are pinned: checksum files never come through a mirror, and the
      // official origin (which would know other hashes anyway) cannot be reached from here.
      writeFileSync(inventoryFile, inventoryText(mirrors, [...upstream.pins]));
      unpinnedFile = join(work, 'unpinned.yaml');
      writeFileSync(
        unpinnedFile,
        inventoryText(
          mirrors,
          [...upstream.pins].filter(([name]) => !name.startsWith('etcd-')),
        ),
      );
    }, 300_000);
    afterAll(async () => {
      registry?.stop();
      await proxy.stop();
      await upstream.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('fetches every artifact through the mirrors, verifies it, and writes a bundle that reads back', async () => {
      const cluster = await openCluster(undefined, { inventory: inventoryFile, home: join(work, 'home') });
      const out = join(work, 'offline.tar');
      const result = await download(cluster, { arches: ['amd64'], bundle: out, say: () => undefined });
      expect(result.bundle).toBe(out);

      const unpacked = join(work, 'unpacked');
      mkdirSync(unpacked);
      await execa('tar', ['-xf', out, '-C', unpacked]);
      const manifest = await readBundleManifest(unpacked);
      const inBundle = manifest.artifacts.flatMap((a) => a.files);
      expect(inBundle.map((f) => f.path).sort()).toEqual([...upstream.payloads.keys()].sort());
      for (const file of inBundle) {
        const bytes = readFileSync(join(unpacked, file.path));
        expect(bytes.equals(upstream.payloads.get(file.path)!), file.path).toBe(true);
        expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect(file.size).toBe(bytes.length);
      }

      // The catalog's images for 1.34, the enabled addons' (metrics-server, NodeLocal DNSCache)
      // and verify's smoke image (agnhost) through cluster.imageRegistry, as docker-archives.
      expect(result.images).toBe(5);
      expect(manifest.images.map((i) => i.name).sort()).toEqual([...pushed.keys()].sort());
      for (const image of manifest.images) {
        const archive = readFileSync(join(unpacked, image.path));
        expect(image.source).toBe('download');
        expect(image.sha256).toBe(createHash('sha256').update(archive).digest('hex'));
        expect(image.size).toBe(archive.length);
        expect(image.configDigest).toBe(pushed.get(image.name)!.configDigest);
        const layout = join(work, `layout-${image.path.split('/').pop()}`);
        mkdirSync(layout);
        await execa('tar', ['-xf', join(unpacked, image.path), '-C', layout]);
        const [entry] = JSON.parse(readFileSync(join(layout, 'manifest.json'), 'utf8'));
        expect(entry.RepoTags).toEqual([image.name]);
        expect(
          `sha256:${createHash('sha256')
            .update(readFileSync(join(layout, entry.Config)))
            .digest('hex')}`,
        ).toBe(image.configDigest);
        expect(entry.Layers).toEqual([
          `${pushed.get(image.name)!.layerDigest.slice('sha256:'.length)}/layer.tar`,
        ]);
      }
      expect(manifest.images.map((i) => i.path).sort()).toEqual([
        'images/agnhost-2.56.tar',
        'images/coredns-v1.12.1.tar',
        'images/k8s-dns-node-cache-1.26.4.tar',
        'images/metrics-server-v0.8.0.tar',
        'images/pause-3.10.1.tar',
      ]);

      // The air-gapped side: the same inventory pointed at the unpacked bundle checks every file.
      const offline = join(work, 'offline.yaml');
      writeFileSync(
        offline,
        `cluster: { name: offline, kubernetesVersion: ${VERSION} }\nssh: { identityFile: ${work}/id_ed25519 }\nartifacts: { source: dir, dir: ${unpacked} }\nhosts:\n  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }\n`,
      );
      const fromBundle = await download(
        await openCluster(undefined, { inventory: offline, home: join(work, 'home') }),
        {
          arches: ['amd64'],
          say: () => undefined,
        },
      );
      expect(fromBundle.files).toBe(inBundle.length);
      // An inventory at another version (an upgrade not yet pointed at its bundle) is refused, naming both.
      const other = join(work, 'other-version.yaml');
      writeFileSync(
        other,
        readFileSync(offline, 'utf8').replace(`kubernetesVersion: ${VERSION}`, 'kubernetesVersion: 1.35.9'),
      );
      const mismatch = await download(
        await openCluster(undefined, { inventory: other, home: join(work, 'home') }),
        {
          arches: ['amd64'],
          say: () => undefined,
        },
      ).catch((e: Error) => e);
      expect(String(mismatch)).toMatch(new RegExp(`holds Kubernetes v?${VERSION}.*asks for 1\\.35\\.9`));
      // Step 03 takes the bundle's images, each checked against its manifest sha256.
      const offlineCluster = await openCluster(undefined, { inventory: offline, home: join(work, 'home') });
      const images = await resolveImages(offlineCluster.loaded.inventory, offline);
      expect(images.map((i) => [i.name, i.configDigest])).toEqual(
        manifest.images.map((i) => [i.name, i.configDigest]),
      );
    });

    it('refuses an image whose layer does not match its digest, and writes no bundle', async () => {
      const layer = pushed.get(`${registryHost}/coredns:v1.12.1`)!.layerDigest;
      proxy.corrupt.add(layer);
      rmSync(join(work, 'cache', 'images'), { recursive: true, force: true });
      const through = join(work, 'through-proxy.yaml');
      writeFileSync(
        through,
        readFileSync(inventoryFile, 'utf8').replace(
          `imageRegistry: "${registryHost}"`,
          `imageRegistry: "${proxy.host}"`,
        ),
      );
      try {
        const cluster = await openCluster(undefined, { inventory: through, home: join(work, 'home') });
        const out = join(work, 'corrupt-image-bundle');
        const error = await download(cluster, { arches: ['amd64'], bundle: out, say: () => undefined }).catch(
          (e: Error) => e,
        );
        expect(error).toBeInstanceOf(RegistryError);
        expect(String(error)).toContain(layer);
        expect(existsSync(out)).toBe(false);
        expect(existsSync(`${out}.building`)).toBe(false);
        expect(readdirSync(join(work, 'cache', 'images', 'blobs', 'sha256'))).not.toContain(
          layer.slice('sha256:'.length),
        );
        proxy.corrupt.delete(layer);
        const fixed = await download(cluster, { arches: ['amd64'], bundle: out, say: () => undefined });
        expect(fixed.images).toBe(5);
        expect((await readBundleManifest(out)).images.map((i) => i.name)).toContain(
          `${proxy.host}/coredns:v1.12.1`,
        );
      } finally {
        proxy.corrupt.delete(layer);
      }
    });

    it('names the images in an archive file per image', () => {
      expect(imageArchivePath('registry.k8s.io/coredns/coredns:v1.12.1')).toBe('images/coredns-v1.12.1.tar');
      expect(imageArchivePath('127.0.0.1:5000/pause:3.10.1')).toBe('images/pause-3.10.1.tar');
    });

    it('never asks the mirror for a checksum file: an unpinned file is checked against the official origin', async () => {
      const etcd = catalogFor(VERSION, 'amd64').find((e) => e.name === 'etcd')!;
      const sums = upstream.files.get(etcd.checksum.url)!;
      const original = upstream.files.get(etcd.url)!;
      const pin = createHash('sha256').update(original).digest('hex');
      // A mirror that serves another (well-formed) archive with a checksum file to match it.
      const other = join(work, 'other-etcd');
      for (const member of Object.keys(etcd.files)) {
        mkdirSync(dirname(join(other, member)), { recursive: true });
        writeFileSync(join(other, member), 'not the etcd the pin names');
      }
      await execa('tar', ['-czf', `${other}.tgz`, '-C', other, '.']);
      const swapped = readFileSync(`${other}.tgz`);
      const swappedSha = createHash('sha256').update(swapped).digest('hex');
      upstream.files.set(etcd.url, swapped);
      upstream.files.set(etcd.checksum.url, Buffer.from(sums.toString().replace(pin, swappedSha)));
      try {
        rmSync(join(work, 'cache'), { recursive: true, force: true });
        const unpinned = await openCluster(undefined, { inventory: unpinnedFile, home: join(work, 'home') });
        // etcd is not pinned: its SHA256SUMS is asked of github.com itself (unreachable here, or
        // listing the real etcd's hash), so the swap cannot pass, and the mirror is never asked.
        const refused = await download(unpinned, { arches: ['amd64'], say: () => undefined }).catch(
          (e: Error) => e,
        );
        expect(refused).toBeInstanceOf(Error);
        expect(String(refused)).toContain('etcd');
        expect(upstream.requests).not.toContain(etcd.checksum.url);

        const pinned = await openCluster(undefined, { inventory: inventoryFile, home: join(work, 'home') });
        const error = await download(pinned, { arches: ['amd64'], say: () => undefined }).catch(
          (e: Error) => e,
        );
        expect(String(error)).toContain(pin);
        upstream.files.set(etcd.url, original);
        const fixed = await download(pinned, {
          arches: ['amd64'],
          bundle: join(work, 'pinned-bundle'),
          say: () => undefined,
        });
        expect(fixed.files).toBe(upstream.payloads.size);
        const etcdBinary = readFileSync(join(work, 'pinned-bundle', 'bin', 'etcd'));
        expect(etcdBinary.equals(upstream.payloads.get('bin/etcd')!)).toBe(true);
        expect(
          upstream.requests.filter((u) => u.includes('SHA256SUMS') || /\.sha256(sum)?$/.test(u)),
        ).toEqual([]);
      } finally {
        upstream.files.set(etcd.url, original);
        upstream.files.set(etcd.checksum.url, sums);
      }
    });

    it('refuses a plain-http mirror unless the inventory allows it, before any download', async () => {
      const insecure = join(work, 'insecure.yaml');
      writeFileSync(
        insecure,
        readFileSync(inventoryFile, 'utf8').replace('  allowInsecureMirrors: true\n', ''),
      );
      const error = await openCluster(undefined, { inventory: insecure, home: join(work, 'home') }).catch(
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(InputError);
      expect(JSON.stringify((error as InputError).problems)).toContain('allowInsecureMirrors');
    });

    it('refuses an artifact that does not match its pin, and writes no bundle', async () => {
      const etcd = catalogFor(VERSION, 'amd64').find((e) => e.name === 'etcd')!;
      upstream.files.set(etcd.url, Buffer.from('not what SHA256SUMS describes'));
      rmSync(join(work, 'cache'), { recursive: true, force: true });
      const cluster = await openCluster(undefined, { inventory: inventoryFile, home: join(work, 'home') });
      const out = join(work, 'refused.tar');
      const error = await download(cluster, { arches: ['amd64'], bundle: out, say: () => undefined }).catch(
        (e: Error) => e,
      );
      expect(String(error)).toMatch(/sha256/i);
      expect(String(error)).toContain('etcd');
      expect(() => readFileSync(out)).toThrow();
    });
  },
);
