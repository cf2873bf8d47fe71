/**
 * Compressed copies of artifacts for upload: each file is gzipped once on the deploy machine and
 * kept in the cache under its sha256, so every host and every later run streams the same bytes.
 * The host decompresses while the stream arrives and checks the sha256 of the result (ssh.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import { sha256File } from './bundle.js';

/**
 * gzip's default level: Go binaries shrink to ~36 % (level 1: ~40 %, level 9: ~35.7 % for four
 * times the CPU). The cache means the cost is paid once per artifact, not per host or run.
 */
export const GZIP_LEVEL = 6;

/** A compressed copy smaller than this share of the original is worth sending; else the raw file goes. */
export const WORTH_SENDING = 0.9;

export interface CompressedArtifact {
  codec: 'gzip';
  /** The cached .gz file. */
  path: string;
  size: number;
  /** sha256 of the original content (what the host must end up with). */
  contentSha256: string;
  contentSize: number;
}

const Record = z.object({
  source: z.string().regex(/^[0-9a-f]{64}$/),
  sourceSize: z.number().int().nonnegative(),
  codec: z.literal('gzip'),
  level: z.number().int(),
  /** Size and sha256 of the .gz; absent when compressing did not pay (sent raw). */
  size: z.number().int().nonnegative().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
type Record = z.infer<typeof Record>;

/** Directory of compressed copies inside a kubesmith cache dir. */
export function compressedDir(cacheDir: string): string {
  return join(cacheDir, 'compressed');
}

/** One compression per file per process, shared by every host of the run. */
const known = new Map<string, Promise<CompressedArtifact | null>>();

/**
 * The gzip copy of a local artifact whose sha256 is known, from the cache when a verified copy is
 * there, else made now (written under a temporary name and renamed into place). Undefined when
 * the file does not compress well enough to be worth it (recorded too, so it is not tried again).
 */
export function compressedArtifact(
  localPath: string,
  sha256: string,
  dir: string,
): Promise<CompressedArtifact | undefined> {
  const key = `${dir}\0${sha256}`;
  let entry = known.get(key);
  if (!entry) {
    entry = fromCache(dir, sha256).then((cached) =>
      cached === undefined ? compress(localPath, sha256, dir) : cached,
    );
    known.set(key, entry);
    entry.catch(() => known.delete(key));
  }
  return entry.then((c) => (c === null ? undefined : c));
}

/** Forgets what this process knows of the cache (tests). */
export function forgetCompressed(): void {
  known.clear();
}

function paths(dir: string, sha256: string): { gz: string; record: string } {
  return { gz: join(dir, `${sha256}.gz`), record: join(dir, `${sha256}.json`) };
}

/** A cached entry whose record parses and whose .gz has the recorded size and sha256; null = "not worth it". */
async function fromCache(dir: string, sha256: string): Promise<CompressedArtifact | null | undefined> {
  const { gz, record: recordFile } = paths(dir, sha256);
  const parsed = Record.safeParse(await readFile(recordFile, 'utf8').then(parseJson, () => undefined));
  if (!parsed.success || parsed.data.source !== sha256) return undefined;
  const record = parsed.data;
  if (record.size === undefined || record.sha256 === undefined) return null;
  const size = await stat(gz).then(
    (s) => s.size,
    () => -1,
  );
  if (size !== record.size || (await sha256File(gz)) !== record.sha256) {
    // A truncated or damaged copy: dropped and made again.
    await rm(gz, { force: true });
    return undefined;
  }
  return entryOf(gz, record);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function entryOf(gz: string, record: Record): CompressedArtifact {
  return {
    codec: 'gzip',
    path: gz,
    size: record.size ?? 0,
    contentSha256: record.source,
    contentSize: record.sourceSize,
  };
}

async function compress(localPath: string, sha256: string, dir: string): Promise<CompressedArtifact | null> {
  await mkdir(dir, { recursive: true });
  const { gz, record: recordFile } = paths(dir, sha256);
  const temp = `${gz}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
  const source = counting('sha256');
  const packed = counting('sha256');
  try {
    await pipeline(
      createReadStream(localPath, { highWaterMark: 1 << 20 }),
      source.stream,
      createGzip({ level: GZIP_LEVEL }),
      packed.stream,
      createWriteStream(temp, { mode: 0o644 }),
    );
    // The cache is keyed by the content: a file that is not what its sha256 says never enters it.
    if (source.digest() !== sha256)
      throw new Error(`${localPath} changed: its sha256 is no longer ${sha256}; not compressed`);
    const worth = packed.bytes() < source.bytes() * WORTH_SENDING;
    const record: Record = {
      source: sha256,
      sourceSize: source.bytes(),
      codec: 'gzip',
      level: GZIP_LEVEL,
      ...(worth ? { size: packed.bytes(), sha256: packed.digest() } : {}),
    };
    if (worth) await rename(temp, gz);
    else await rm(temp, { force: true });
    const recordTemp = `${recordFile}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(recordTemp, `${JSON.stringify(record)}\n`);
    await rename(recordTemp, recordFile);
    return worth ? entryOf(gz, record) : null;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** A pass-through stream that hashes and counts what flows through it. */
function counting(algorithm: string) {
  const hash = createHash(algorithm);
  let total = 0;
  let digest: string | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      total += chunk.length;
      done(null, chunk);
    },
  });
  return {
    stream,
    bytes: () => total,
    digest: () => {
      digest ??= hash.digest('hex');
      return digest;
    },
  };
}
