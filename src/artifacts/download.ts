import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../errors.js';
import { sha256File } from './bundle.js';

export interface Expected {
  sha256?: string;
  checksumUrl?: string;
  /** The name to look up in a checksum file that lists several files. */
  checksumEntry?: string;
  /** What to tell the user when the checksum file cannot be fetched. */
  checksumHint?: string;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  /** Bytes fetched in this call (0 when the cached file was already good). */
  fetched: number;
  resumedFrom: number;
}

export class ArtifactError extends InputError {}

/** Parses `HASH  name` lines (or a lone hash) and returns the hash for entry. */
export function pickChecksum(text: string, entry?: string): string | undefined {
  for (const line of text.split('\n')) {
    const [hash, name] = line.trim().split(/\s+/);
    if (!hash || !/^[0-9a-f]{64}$/i.test(hash)) continue;
    if (!entry || !name || name.replace(/^\*/, '').replace(/^\.\//, '') === entry) return hash.toLowerCase();
  }
  return undefined;
}

async function fetchText(url: string, signal?: AbortSignal, hint?: string): Promise<string> {
  const response = await fetch(url, { signal }).catch((cause: Error) => {
    throw new ArtifactError(
      `cannot fetch ${url}: ${cause.message}; ${hint ?? 'check the network or set artifacts.mirrors'}`,
      [],
      { cause },
    );
  });
  if (!response.ok)
    throw new ArtifactError(
      `${url} answered ${response.status}; ${hint ?? 'check the version and artifacts.mirrors'}`,
    );
  return response.text();
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

async function fetchInto(
  url: string,
  part: string,
  offset: number,
  options: { signal?: AbortSignal; onProgress?: (bytes: number, total?: number) => void },
): Promise<{ fetched: number; resumedFrom: number }> {
  const response = await fetch(url, {
    signal: options.signal,
    headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
  }).catch((cause: Error) => {
    throw new ArtifactError(
      `cannot fetch ${url}: ${cause.message}; check the network or set artifacts.mirrors`,
      [],
      { cause },
    );
  });
  if (response.status === 416) return { fetched: 0, resumedFrom: offset };
  if (!response.ok || !response.body)
    throw new ArtifactError(`${url} answered ${response.status}; check the version and artifacts.mirrors`);
  const from = response.status === 206 ? offset : 0;
  const total = Number(response.headers.get('content-length') ?? 0) + from || undefined;
  let fetched = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => {
    fetched += chunk.length;
    options.onProgress?.(from + fetched, total);
  });
  await pipeline(body, createWriteStream(part, { flags: from > 0 ? 'a' : 'w' }));
  return { fetched, resumedFrom: from };
}

/**
 * Fetches url into dest, verified by sha256. A good cached dest is reused without any
 * request for the file; a partial download (dest.part) resumes with a Range request.
 * A checksum mismatch leaves nothing behind at dest.
 */
export async function downloadVerified(
  url: string,
  dest: string,
  expected: Expected,
  options: { signal?: AbortSignal; onProgress?: (bytes: number, total?: number) => void } = {},
): Promise<DownloadResult> {
  const want =
    expected.sha256?.toLowerCase() ??
    (expected.checksumUrl
      ? pickChecksum(
          await fetchText(expected.checksumUrl, options.signal, expected.checksumHint),
          expected.checksumEntry,
        )
      : undefined);
  if (!want)
    throw new ArtifactError(
      `no sha256 for ${url}: ${expected.checksumUrl ?? 'no checksum source'} lists none${expected.checksumEntry ? ` for ${expected.checksumEntry}` : ''}`,
    );
  if ((await sizeOf(dest)) > 0 && (await sha256File(dest)) === want)
    return { path: dest, sha256: want, fetched: 0, resumedFrom: 0 };
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let result = await fetchInto(url, part, await sizeOf(part), options);
  let got = await sha256File(part);
  if (got !== want && result.resumedFrom > 0) {
    // A stale partial from another file version: start over once.
    await rm(part, { force: true });
    result = await fetchInto(url, part, 0, options);
    got = await sha256File(part);
  }
  if (got !== want) {
    await rm(part, { force: true });
    throw new ArtifactError(
      `sha256 mismatch for ${url}: expected ${want}, got ${got}; the file was discarded and nothing was installed`,
    );
  }
  await rename(part, dest);
  return { path: dest, sha256: want, ...result };
}
