import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { acquireLock, processStart } from '../../../src/engine/lock.js';
import { LockedError } from '../../../src/errors.js';

describe('cluster lock', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'ks-lock-')), '.lock');
  const deadHolder = (command = 'setup all') =>
    JSON.stringify({
      pid: spawnSync('true').pid!,
      host: hostname(),
      command,
      startedAt: '2026-01-01T00:00:00Z',
    });

  it('lets one run in and refuses a second while the first lives', async () => {
    const path = file();
    const lock = await acquireLock(path, 'setup all');
    await expect(acquireLock(path, 'setup 02')).rejects.toThrow(LockedError);
    await expect(acquireLock(path, 'setup 02')).rejects.toThrow(/setup all.*pid/);
    await lock.release();
    expect(existsSync(path)).toBe(false);
    await (await acquireLock(path, 'again')).release();
    // Nothing is left beside the lock: the file is written aside and linked into place.
    expect(readdirSync(dirname(path))).toEqual([]);
  });

  it('takes over a lock whose process is gone, and says whose it was', async () => {
    const path = file();
    writeFileSync(path, deadHolder());
    const lock = await acquireLock(path, 'setup all');
    expect(lock.tookOver).toMatchObject({ command: 'setup all' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(readdirSync(dirname(path))).toEqual([]);
  });

  it('a holder whose pid now belongs to another process (here: this one) is gone: taken over', async () => {
    const path = file();
    const reused = {
      pid: process.pid,
      host: hostname(),
      command: 'setup 03',
      startedAt: '2026-01-01T00:00:00Z',
    };
    writeFileSync(path, JSON.stringify({ ...reused, processStart: '1' }));
    const lock = await acquireLock(path, 'setup all');
    expect(lock.tookOver).toMatchObject({ command: 'setup 03' });
    await lock.release();
    // The same pid with its own start time is a live holder.
    const child = execa('sleep', ['30']);
    try {
      writeFileSync(
        path,
        JSON.stringify({ ...reused, pid: child.pid, processStart: processStart(child.pid!) }),
      );
      await expect(acquireLock(path, 'setup all')).rejects.toThrow(LockedError);
    } finally {
      child.kill();
      await child.catch(() => undefined);
    }
  });

  it('an empty or partly written lock is another run starting, not a stale lock', async () => {
    for (const content of ['', '{"pid": 12']) {
      const path = file();
      writeFileSync(path, content);
      await expect(acquireLock(path, 'setup all')).rejects.toThrow(/taking .* right now/);
      expect(readFileSync(path, 'utf8')).toBe(content);
    }
  });

  it('an empty lock older than a minute is stale and taken over', async () => {
    const path = file();
    writeFileSync(path, '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    const lock = await acquireLock(path, 'setup all');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, command: 'setup all' });
    await lock.release();
  });

  it('processes that all find the same dead holder: exactly one takes over', async () => {
    const racer = join(import.meta.dirname, '..', '..', 'helpers', 'lock-racer.ts');
    for (let round = 0; round < 2; round++) {
      const path = file();
      writeFileSync(path, deadHolder());
      const start = join(dirname(path), 'start');
      const racers = Array.from({ length: 6 }, () =>
        execa('node', ['--import', 'tsx', racer, path, start], { reject: false, buffer: true }),
      );
      // Start them together once every one is loaded.
      await Promise.all(
        racers.map((r) => new Promise<void>((resolve) => r.stdout?.once('data', () => resolve()))),
      );
      writeFileSync(start, '');
      const outputs = (await Promise.all(racers)).map((r) => String(r.stdout));
      expect(outputs.filter((o) => o.includes('WON'))).toHaveLength(1);
      expect(outputs.filter((o) => o.includes('LOST LockedError'))).toHaveLength(5);
      expect(readdirSync(dirname(path))).toEqual(['start']);
    }
  });

  it('release() leaves alone a lock that is no longer ours', async () => {
    const path = file();
    const lock = await acquireLock(path, 'setup all');
    const other = JSON.stringify({
      pid: 1,
      host: 'elsewhere',
      command: 'setup 02',
      startedAt: 'now',
      token: 'x',
    });
    writeFileSync(path, other);
    await lock.release();
    expect(readFileSync(path, 'utf8')).toBe(other);
  });
});
