import { existsSync, lstatSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OperationError } from '../../../src/errors.js';
import { fetchRemoteFile } from '../../../src/etcd/fetch.js';
import type { ExecOptions, ExecResult } from '../../../src/transport/ssh.js';

/** A connection whose `cat` streams `chunks` of 64 KiB into the given stdout. */
function fakeConn(chunks: number, exitCode = 0) {
  return {
    target: { name: 'h1' },
    async exec(_argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      const out = options.stdout as Writable;
      for (let i = 0; i < chunks && !options.signal?.aborted; i++) {
        const ok = out.write(Buffer.alloc(65536, i % 256));
        if (!ok) await new Promise((r) => out.once('drain', r));
      }
      out.end();
      return {
        command: 'cat',
        stdout: '',
        stderr: exitCode ? 'cat: no such file' : '',
        exitCode,
        durationMs: 1,
      };
    },
  } as never;
}

describe('fetching a snapshot from a host', () => {
  it('copies every byte', async () => {
    const local = join(mkdtempSync(join(tmpdir(), 'ks-fetch-')), 'snapshot.db');
    await fetchRemoteFile(fakeConn(20), '/x', local);
    expect(readFileSync(local).length).toBe(20 * 65536);
  });

  it('reports a full local disk as an error, without crashing (/dev/full stands in for it)', async () => {
    // A link to /dev/full: the partial copy removed is the link, never the device.
    const local = join(mkdtempSync(join(tmpdir(), 'ks-fetch-')), 'snapshot.db');
    symlinkSync('/dev/full', local);
    const error = await fetchRemoteFile(fakeConn(50), '/x', local).catch((e: Error) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/ENOSPC|out of disk space/i);
    expect(existsSync(local)).toBe(false);
    expect(lstatSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('removes the partial local copy when the remote read fails', async () => {
    const local = join(mkdtempSync(join(tmpdir(), 'ks-fetch-')), 'snapshot.db');
    await expect(fetchRemoteFile(fakeConn(3, 1), '/x', local)).rejects.toThrow(/could not read \/x on h1/);
    expect(existsSync(local)).toBe(false);
  });
});
