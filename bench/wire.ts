/**
 * Bytes on the wire of a cold run, compressed against raw. The host's record of the binaries it
 * got (/var/lib/kubesmith/checksums: sha256, size:mtime, path) gives their raw sizes; the deploy
 * machine's cache of compressed copies gives what each one cost on the wire.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { compressedDir } from '../src/artifacts/compress.js';
import { cacheDir } from '../src/home.js';
import type { LabAccess } from './lab-hosts.js';

export interface Wire {
  /** What the run sent to the host (bytesUploaded): binaries compressed where it paid. */
  sentBytes: number;
  /** What it would have sent with every binary as it is. */
  rawBytes: number;
  binaries: number;
}

/** Raw size and bytes sent of one binary, by its sha256 (the cache record; absent = sent raw). */
function sentSize(sha256: string, rawSize: number): number {
  try {
    const record = JSON.parse(readFileSync(join(compressedDir(cacheDir()), `${sha256}.json`), 'utf8')) as {
      size?: number;
    };
    return record.size ?? rawSize;
  } catch {
    return rawSize;
  }
}

export async function wireBytes(access: LabAccess, hostIndex: number, sentBytes: number): Promise<Wire> {
  const host = access.hosts[hostIndex]!.address;
  const record = await execa('ssh', [...access.sshOptions, host, 'cat /var/lib/kubesmith/checksums']);
  let raw = 0;
  let packed = 0;
  let binaries = 0;
  for (const line of record.stdout.split('\n')) {
    const [sha256, sizeMtime] = line.split(' ');
    if (!sha256 || !sizeMtime) continue;
    const size = Number(sizeMtime.split(':')[0]);
    raw += size;
    packed += sentSize(sha256, size);
    binaries++;
  }
  return { sentBytes, rawBytes: sentBytes - packed + raw, binaries };
}
