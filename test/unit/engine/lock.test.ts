import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../../src/engine/lock.js';
import { LockedError } from '../../../src/errors.js';

describe('cluster lock', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'ks-lock-')), '.lock');

  it('lets one run in and refuses a second while the first lives', async () => {
    const path = file();
    const lock = await acquireLock(path, 'setup all');
    await expect(acquireLock(path, 'setup 02')).rejects.toThrow(LockedError);
    await expect(acquireLock(path, 'setup 02')).rejects.toThrow(/setup all.*pid/);
    await lock.release();
    expect(existsSync(path)).toBe(false);
    await (await acquireLock(path, 'again')).release();
  });

  it('takes over a lock whose process is gone, and says whose it was', async () => {
    const path = file();
    const dead = spawnSync('true').pid!;
    writeFileSync(
      path,
      JSON.stringify({
        pid: dead,
        host: hostname(),
        command: 'setup all',
        startedAt: '2026-01-01T00:00:00Z',
      }),
    );
    const lock = await acquireLock(path, 'setup all');
    expect(lock.tookOver).toMatchObject({ pid: dead, command: 'setup all' });
    await lock.release();
  });
});
