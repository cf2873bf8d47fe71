import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCacheLock } from '../../../src/artifacts/cache-lock.js';
import { type CatalogEntry, COMPONENTS, catalogFor } from '../../../src/artifacts/catalog.js';
import { ArtifactError } from '../../../src/artifacts/download.js';
import { allCatalogPins } from '../../../src/artifacts/pins.js';
import { fetchEntry } from '../../../src/artifacts/resolve.js';
import { LockedError } from '../../../src/errors.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { ELREPO_KEY_ORIGIN, elrepoRepoFile } from '../../../src/os/kernel-upgrade.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A real HTTP server on 127.0.0.1 serving named files, recording every request, optionally slowly. */
class Origin {
  readonly files = new Map<string, Buffer>();
  readonly requests: string[] = [];
  delayMs = 0;
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '';
      this.requests.push(path);
      const body = this.files.get(path);
      setTimeout(() => {
        res.statusCode = body ? 200 : 404;
        res.end(body ?? 'not found');
      }, this.delayMs);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const genuine = Buffer.concat([Buffer.from('the real runc\n'), randomBytes(64 * 1024)]);
const hostile = Buffer.concat([Buffer.from('a backdoored runc\n'), randomBytes(64 * 1024)]);
const official = new Origin();
const mirror = new Origin();

beforeAll(async () => {
  // checkedSha keeps its size+mtime index in the cache dir: a test one, not the user's.
  process.env.KUBESMITH_CACHE = mkdtempSync(join(tmpdir(), 'ks-supply-home-'));
  await official.start();
  await mirror.start();
  official.files.set('/runc.amd64', genuine);
  official.files.set('/runc.sha256sum', Buffer.from(`${sha(genuine)}  runc.amd64\n`));
  // A hostile mirror controls the file and, if asked, a checksum file that agrees with it.
  mirror.files.set('/runc.amd64', hostile);
  mirror.files.set('/runc.sha256sum', Buffer.from(`${sha(hostile)}  runc.amd64\n`));
});
afterAll(async () => {
  await official.stop();
  await mirror.stop();
});

/** A catalog entry whose official origin is the local "official" server. */
function entry(pin?: string): CatalogEntry {
  return {
    name: 'runc',
    version: '1.3.0',
    url: `${official.base}/runc.amd64`,
    checksum: {
      url: `${official.base}/runc.sha256sum`,
      entry: 'runc.amd64',
      ...(pin ? { sha256: pin } : {}),
    },
    archive: 'file',
    files: { 'runc.amd64': 'bin/runc' },
  };
}
const throughMirror = () => ({ mirrors: { [`${official.base}/`]: `${mirror.base}/` }, sha256: {} });
const newCache = () => mkdtempSync(join(tmpdir(), 'ks-supply-'));
const checksumRequests = (o: Origin) => o.requests.filter((r) => r.endsWith('.sha256sum')).length;

describe('artifacts through a mirror (real HTTP servers on 127.0.0.1)', () => {
  it('takes the checksum from the official origin, never the mirror, and refuses the swapped file', async () => {
    const before = { official: checksumRequests(official), mirror: checksumRequests(mirror) };
    const error = await fetchEntry(entry(), throughMirror(), { arch: 'amd64', cacheDir: newCache() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArtifactError);
    expect((error as Error).message).toContain(`expected ${sha(genuine)}, got ${sha(hostile)}`);
    expect(checksumRequests(mirror)).toBe(before.mirror);
    expect(checksumRequests(official)).toBe(before.official + 1);
  });

  it('with a catalog pin, uses the mirror for the file and fetches no checksum file at all', async () => {
    mirror.files.set('/runc.amd64', genuine);
    try {
      const before = checksumRequests(official) + checksumRequests(mirror);
      const [file] = await fetchEntry(entry(sha(genuine)), throughMirror(), {
        arch: 'amd64',
        cacheDir: newCache(),
      });
      expect(file?.sha256).toBe(sha(genuine));
      expect(readFileSync(file!.localPath).equals(genuine)).toBe(true);
      expect(checksumRequests(official) + checksumRequests(mirror)).toBe(before);
    } finally {
      mirror.files.set('/runc.amd64', hostile);
    }
  });

  it('an inventory pin wins over the catalog pin and refuses the mirror’s file', async () => {
    const error = await fetchEntry(
      entry('0'.repeat(64)),
      { ...throughMirror(), sha256: { 'runc.amd64': sha(genuine) } },
      { arch: 'amd64', cacheDir: newCache() },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`expected ${sha(genuine)}, got ${sha(hostile)}`);
  });
});

describe('the download cache', () => {
  const direct = { mirrors: {}, sha256: {} };

  it('re-hashes a cached file that changed and fetches it again', async () => {
    const cacheDir = newCache();
    const [first] = await fetchEntry(entry(), direct, { arch: 'amd64', cacheDir });
    const fetches = () => official.requests.filter((r) => r === '/runc.amd64').length;
    const before = fetches();
    await fetchEntry(entry(), direct, { arch: 'amd64', cacheDir });
    expect(fetches()).toBe(before);

    writeFileSync(first!.localPath, hostile);
    const [again] = await fetchEntry(entry(), direct, { arch: 'amd64', cacheDir });
    expect(fetches()).toBe(before + 1);
    expect(readFileSync(again!.localPath).equals(genuine)).toBe(true);
  });

  it('refuses a cached file whose recorded sha256 differs from a pin added later, and refetches', async () => {
    const cacheDir = newCache();
    // Filled earlier from a source that served the hostile file (its checksum agreed then).
    mirror.files.set('/runc.sha256sum', Buffer.from(`${sha(hostile)}  runc.amd64\n`));
    const viaMirror: CatalogEntry = {
      ...entry(),
      url: `${mirror.base}/runc.amd64`,
      checksum: { url: `${mirror.base}/runc.sha256sum`, entry: 'runc.amd64' },
    };
    const [cached] = await fetchEntry(viaMirror, direct, { arch: 'amd64', cacheDir });
    expect(cached?.sha256).toBe(sha(hostile));
    const pinned: CatalogEntry = { ...viaMirror, checksum: { ...viaMirror.checksum, sha256: sha(genuine) } };
    mirror.files.set('/runc.amd64', genuine);
    try {
      const [file] = await fetchEntry(pinned, direct, { arch: 'amd64', cacheDir });
      expect(file?.sha256).toBe(sha(genuine));
      expect(readFileSync(file!.localPath).equals(genuine)).toBe(true);
    } finally {
      mirror.files.set('/runc.amd64', hostile);
    }
  });

  it('lets one process at a time fill a cache entry: a concurrent fetch waits and reuses it', async () => {
    const cacheDir = newCache();
    const fetches = () => official.requests.filter((r) => r === '/runc.amd64').length;
    const before = fetches();
    official.delayMs = 300;
    try {
      const results = await Promise.all([
        fetchEntry(entry(), direct, { arch: 'amd64', cacheDir }),
        fetchEntry(entry(), direct, { arch: 'amd64', cacheDir }),
      ]);
      expect(fetches()).toBe(before + 1);
      expect(results[0]?.[0]?.sha256).toBe(sha(genuine));
      expect(results[1]?.[0]?.sha256).toBe(sha(genuine));
    } finally {
      official.delayMs = 0;
    }
  });

  it('gives up with LockedError when another live process keeps the entry', async () => {
    const dir = newCache();
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, '.lock'),
      `${JSON.stringify({ pid: process.pid, host: hostname(), command: 'download runc', startedAt: new Date().toISOString(), token: 'other' })}\n`,
    );
    const said: string[] = [];
    const error = await withCacheLock(dir, 'runc', async () => 'ran', {
      waitMs: 500,
      say: (l) => said.push(l),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockedError);
    expect(said).toEqual(['waiting for another kubesmith that is downloading runc']);
  });
});

describe('mirror URLs in the inventory', () => {
  const parse = (artifacts: Record<string, unknown>) =>
    inventorySchema.safeParse({
      cluster: { name: 'prod' },
      artifacts,
      hosts: [{ name: 'n1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
    });

  it('refuses an http:// mirror unless allowInsecureMirrors is set', () => {
    const insecure = parse({ mirrors: { 'https://github.com/': 'http://mirror.example/gh/' } });
    expect(insecure.success).toBe(false);
    expect(insecure.error?.issues[0]).toMatchObject({
      path: ['artifacts', 'mirrors', 'https://github.com/'],
      message: expect.stringContaining('allowInsecureMirrors'),
    });
    expect(
      parse({ mirrors: { 'https://github.com/': 'http://mirror.example/gh/' }, allowInsecureMirrors: true })
        .success,
    ).toBe(true);
    expect(parse({ mirrors: { 'https://github.com/': 'https://mirror.example/gh/' } }).success).toBe(true);
  });
});

describe('catalog pins', () => {
  it('are lower-case sha256 values of entries the catalog names', () => {
    const named = new Set(
      Object.keys(COMPONENTS).flatMap((minor) =>
        (['amd64', 'arm64'] as const).flatMap((arch) =>
          ['0', '1', '2', '3', '4'].flatMap((patch) =>
            catalogFor(`${minor}.${patch}`, arch).map((e) => `${e.name}/${e.version}/${arch}`),
          ),
        ),
      ),
    );
    for (const [key, value] of Object.entries(allCatalogPins())) {
      expect(value, key).toMatch(/^[0-9a-f]{64}$/);
      expect(named.has(key), key).toBe(true);
    }
  });

  it('reach the catalog entries, so that no checksum file is needed for them', () => {
    const containerd = catalogFor('1.34.3', 'amd64').find((e) => e.name === 'containerd')!;
    expect(containerd.checksum.sha256).toBe(allCatalogPins()['containerd/2.1.4/amd64']);
    const kubelet = catalogFor('1.34.3', 'arm64').find((e) => e.name === 'kubelet')!;
    expect(kubelet.checksum.sha256).toBe(allCatalogPins()['kubelet/1.34.3/arm64']);
    const apiserver = catalogFor('1.34.3', 'amd64').find((e) => e.name === 'kube-apiserver')!;
    expect(apiserver.checksum.sha256).toBeUndefined();
    expect(apiserver.checksum.url).toMatch(/^https:\/\/dl\.k8s\.io\//);
  });
});

describe('the ELRepo signing keys', () => {
  it('come from ELRepo over https even when the packages come from a mirror', () => {
    const repo = elrepoRepoFile(9, 'http://mirror.example/elrepo');
    expect(repo).toContain('baseurl=http://mirror.example/elrepo/kernel/el9/$basearch/');
    const gpgkey = repo.split('\n').find((l) => l.startsWith('gpgkey='))!;
    expect(gpgkey).toBe(
      `gpgkey=${ELREPO_KEY_ORIGIN}/RPM-GPG-KEY-elrepo.org ${ELREPO_KEY_ORIGIN}/RPM-GPG-KEY-v2-elrepo.org`,
    );
    expect(ELREPO_KEY_ORIGIN).toBe('https://www.elrepo.org');
  });
});
