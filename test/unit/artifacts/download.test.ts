import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mirrored } from '../../../src/artifacts/catalog.js';
import { ArtifactError, downloadVerified, pickChecksum } from '../../../src/artifacts/download.js';

/** A real HTTP server on 127.0.0.1 serving one artifact, with Range support and a switch to cut a response short. */
const body = randomBytes(3 * 1024 * 1024 + 17);
const sha = createHash('sha256').update(body).digest('hex');
let server: Server;
let base = '';
let cutNextAt: number | undefined;
const served: { range?: string; bytes: number }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/SHA256SUMS') {
      res.end(`${'0'.repeat(64)}  other.tgz\n${sha}  etcd.tgz\n`);
      return;
    }
    if (req.url !== '/etcd.tgz') {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const range = req.headers.range?.match(/^bytes=(\d+)-$/);
    const start = range ? Number(range[1]) : 0;
    const slice = body.subarray(start);
    res.writeHead(range ? 206 : 200, { 'content-length': String(slice.length) });
    if (cutNextAt !== undefined) {
      const cut = cutNextAt;
      cutNextAt = undefined;
      served.push({ range: req.headers.range, bytes: cut });
      res.write(slice.subarray(0, cut), () => res.destroy());
      return;
    }
    served.push({ range: req.headers.range, bytes: slice.length });
    res.end(slice);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const dir = () => mkdtempSync(join(tmpdir(), 'ks-dl-'));

describe('artifact download (real HTTP server on 127.0.0.1)', () => {
  it('downloads, verifies against the published checksum file, and reuses the cached file', async () => {
    const dest = join(dir(), 'etcd.tgz');
    const first = await downloadVerified(`${base}/etcd.tgz`, dest, {
      checksumUrl: `${base}/SHA256SUMS`,
      checksumEntry: 'etcd.tgz',
    });
    expect(first).toMatchObject({ sha256: sha, fetched: body.length });
    expect(readFileSync(dest).equals(body)).toBe(true);
    const count = served.length;
    const again = await downloadVerified(`${base}/etcd.tgz`, dest, { sha256: sha });
    expect(again.fetched).toBe(0);
    expect(served.length).toBe(count);
  });

  it('refuses a wrong checksum and leaves nothing installed', async () => {
    const dest = join(dir(), 'etcd.tgz');
    const error = await downloadVerified(`${base}/etcd.tgz`, dest, { sha256: 'a'.repeat(64) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArtifactError);
    expect((error as Error).message).toMatch(/sha256 mismatch .* nothing was installed/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('names the URL and status of a missing file', async () => {
    const error = await downloadVerified(`${base}/nope.tgz`, join(dir(), 'x'), { sha256: sha }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe(
      `${base}/nope.tgz answered 404; check the version and artifacts.mirrors`,
    );
  });

  it('resumes an interrupted download with a Range request', async () => {
    const dest = join(dir(), 'etcd.tgz');
    cutNextAt = 1024 * 1024;
    await expect(downloadVerified(`${base}/etcd.tgz`, dest, { sha256: sha })).rejects.toThrow();
    expect(existsSync(`${dest}.part`)).toBe(true);
    const resumed = await downloadVerified(`${base}/etcd.tgz`, dest, { sha256: sha });
    expect(resumed.resumedFrom).toBeGreaterThan(0);
    expect(resumed.fetched).toBe(body.length - resumed.resumedFrom);
    expect(served[served.length - 1]?.range).toBe(`bytes=${resumed.resumedFrom}-`);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('starts over when a stale partial does not add up', async () => {
    const dest = join(dir(), 'etcd.tgz');
    writeFileSync(`${dest}.part`, randomBytes(1000));
    const result = await downloadVerified(`${base}/etcd.tgz`, dest, { sha256: sha });
    expect(result.resumedFrom).toBe(0);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });
});

describe('checksums and mirrors', () => {
  it('picks the named entry from a multi-file checksum list, or a lone hash', () => {
    expect(pickChecksum(`${'1'.repeat(64)}  a.tgz\n${'2'.repeat(64)} *b.tgz\n`, 'b.tgz')).toBe(
      '2'.repeat(64),
    );
    expect(pickChecksum(`${'3'.repeat(64)}\n`)).toBe('3'.repeat(64));
    expect(pickChecksum('garbage', 'a')).toBeUndefined();
  });

  it('rewrites by the longest matching prefix', () => {
    const mirrors = {
      'https://github.com/': 'https://m.example/gh/',
      'https://github.com/etcd-io/': 'https://m.example/etcd/',
    };
    expect(mirrored('https://github.com/etcd-io/etcd/x.tgz', mirrors)).toBe(
      'https://m.example/etcd/etcd/x.tgz',
    );
    expect(mirrored('https://github.com/containerd/c.tgz', mirrors)).toBe(
      'https://m.example/gh/containerd/c.tgz',
    );
    expect(mirrored('https://dl.k8s.io/kubelet', mirrors)).toBe('https://dl.k8s.io/kubelet');
  });
});
