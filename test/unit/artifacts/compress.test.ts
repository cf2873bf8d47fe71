import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compressedArtifact, forgetCompressed } from '../../../src/artifacts/compress.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Binary-like content that compresses: repeated text with some noise. */
function compressible(size: number): Buffer {
  const text = Buffer.from(
    'func main() { runtime.GOMAXPROCS(2); fmt.Println("kubesmith") }\n'.repeat(size / 64),
  );
  const noise = randomBytes(size / 16);
  return Buffer.concat([text, noise]).subarray(0, size);
}

describe('compressed copies of artifacts (cached by sha256)', () => {
  let work: string;
  let cache: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'ks-compress-'));
    cache = join(work, 'compressed');
    forgetCompressed();
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const artifact = (data: Buffer) => {
    const path = join(work, 'tool');
    writeFileSync(path, data);
    return { path, sha: sha256(data) };
  };

  it('gzips a file once; the copy decompresses to exactly the original', async () => {
    const data = compressible(4 << 20);
    const { path, sha } = artifact(data);
    const packed = await compressedArtifact(path, sha, cache);
    expect(packed).toBeDefined();
    expect(packed!.contentSha256).toBe(sha);
    expect(packed!.contentSize).toBe(data.length);
    expect(packed!.size).toBe(statSync(packed!.path).size);
    expect(packed!.size).toBeLessThan(data.length / 3);
    expect(gunzipSync(readFileSync(packed!.path)).equals(data)).toBe(true);
    // Only the copy and its record: no temporary file left behind.
    expect(readdirSync(cache).sort()).toEqual([`${sha}.gz`, `${sha}.json`]);
  });

  it('reuses a verified copy from the cache in a later process instead of compressing again', async () => {
    const { path, sha } = artifact(compressible(1 << 20));
    const first = await compressedArtifact(path, sha, cache);
    const written = statSync(first!.path).mtimeMs;
    forgetCompressed();
    // The original is gone: only the cache can answer.
    rmSync(path);
    const again = await compressedArtifact(path, sha, cache);
    expect(again).toEqual(first);
    expect(statSync(again!.path).mtimeMs).toBe(written);
  });

  it('rejects a damaged or truncated cached copy and makes it again', async () => {
    const data = compressible(1 << 20);
    const { path, sha } = artifact(data);
    const first = await compressedArtifact(path, sha, cache);
    const good = readFileSync(first!.path);
    for (const bad of [
      Buffer.concat([good.subarray(0, 100), Buffer.from('x'), good.subarray(101)]),
      good.subarray(0, 1000),
    ]) {
      writeFileSync(first!.path, bad);
      forgetCompressed();
      const again = await compressedArtifact(path, sha, cache);
      expect(readFileSync(again!.path).equals(good)).toBe(true);
      expect(gunzipSync(readFileSync(again!.path)).equals(data)).toBe(true);
    }
  });

  it('ignores a record that does not parse or names other content', async () => {
    const { path, sha } = artifact(compressible(1 << 20));
    const first = await compressedArtifact(path, sha, cache);
    writeFileSync(join(cache, `${sha}.json`), '{"source": "nope"');
    forgetCompressed();
    expect(await compressedArtifact(path, sha, cache)).toEqual(first);
    expect(JSON.parse(readFileSync(join(cache, `${sha}.json`), 'utf8'))).toMatchObject({
      source: sha,
      codec: 'gzip',
    });
  });

  it('sends incompressible content as it is (and remembers that without keeping a copy)', async () => {
    const { path, sha } = artifact(randomBytes(1 << 20));
    expect(await compressedArtifact(path, sha, cache)).toBeUndefined();
    expect(readdirSync(cache)).toEqual([`${sha}.json`]);
    forgetCompressed();
    expect(await compressedArtifact(path, sha, cache)).toBeUndefined();
  });

  it('refuses a file that is not what its sha256 says, and caches nothing for it', async () => {
    const { path } = artifact(compressible(1 << 20));
    const claimed = sha256(Buffer.from('something else'));
    await expect(compressedArtifact(path, claimed, cache)).rejects.toThrow(
      /changed: its sha256 is no longer/,
    );
    expect(readdirSync(cache)).toEqual([]);
  });

  it('compresses a file once when many hosts ask at the same time', async () => {
    const { path, sha } = artifact(compressible(2 << 20));
    const all = await Promise.all(Array.from({ length: 5 }, () => compressedArtifact(path, sha, cache)));
    expect(new Set(all).size).toBe(1);
    expect(readdirSync(cache).sort()).toEqual([`${sha}.gz`, `${sha}.json`]);
  });
});
