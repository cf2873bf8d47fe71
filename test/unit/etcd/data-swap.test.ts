import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ETCD_PATHS } from '../../../src/components/etcd.js';
import {
  type EtcdDirs,
  restorePaths,
  retireMemberScript,
  swapBackScript,
  swapInScript,
} from '../../../src/etcd/data-swap.js';

const STAMP = '2026-01-02T03-04-05Z';

/**
 * Runs a script with an `mv` that fails with EBUSY for the mount points (as the kernel does for a
 * dedicated etcd disk), and `systemctl` stubbed out.
 */
async function runWithMountPoints(script: string, mountPoints: string[]) {
  const bin = mkdtempSync(join(tmpdir(), 'ks-bin-'));
  // The sources are every argument but the target (the last one, or the one after -t).
  const mv = [
    '#!/bin/sh',
    'target_next=; last=; for a in "$@"; do last=$a; done',
    'for a in "$@"; do',
    '  if [ -n "$target_next" ]; then target_next=; continue; fi',
    '  [ "$a" = -t ] && { target_next=1; last=; continue; }',
    '  [ "$a" = "$last" ] && continue',
    ...mountPoints.map(
      (m) => `  [ "$a" = '${m}' ] && { echo "mv: cannot move '${m}': Device or resource busy" >&2; exit 1; }`,
    ),
    'done',
    'exec /bin/mv "$@"',
  ].join('\n');
  writeFileSync(join(bin, 'mv'), mv);
  writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'mv'), 0o755);
  chmodSync(join(bin, 'systemctl'), 0o755);
  return execa('sh', ['-c', script], { reject: false, env: { PATH: `${bin}:${process.env.PATH}` } });
}

function layout(withWal: boolean): EtcdDirs {
  const root = mkdtempSync(join(tmpdir(), 'ks-etcd-'));
  const dirs = { dataDir: join(root, 'data'), walDir: withWal ? join(root, 'wal') : '' };
  mkdirSync(join(dirs.dataDir, 'member', 'snap'), { recursive: true });
  writeFileSync(join(dirs.dataDir, 'member', 'snap', 'db'), 'old');
  const p = restorePaths(dirs, STAMP);
  mkdirSync(join(p.freshData, 'member', 'snap'), { recursive: true });
  writeFileSync(join(p.freshData, 'member', 'snap', 'db'), 'new');
  if (withWal) {
    mkdirSync(dirs.walDir);
    writeFileSync(join(dirs.walDir, '0000000000000000-0000000000000000.wal'), 'old wal');
    mkdirSync(p.freshWal!);
    writeFileSync(join(p.freshWal!, '0000000000000000-0000000000000000.wal'), 'new wal');
  }
  return dirs;
}

const db = (dirs: EtcdDirs) => readFileSync(join(dirs.dataDir, 'member', 'snap', 'db'), 'utf8');
const wal = (dirs: EtcdDirs) =>
  readFileSync(join(dirs.walDir, '0000000000000000-0000000000000000.wal'), 'utf8');

it('the stand-in mv refuses to move a mount point, as the kernel does', async () => {
  const dirs = layout(false);
  const run = await runWithMountPoints(`mv ${dirs.dataDir} ${dirs.dataDir}.aside`, [dirs.dataDir]);
  expect(run.exitCode).not.toBe(0);
  expect(run.stderr).toContain('busy');
});

describe.each([false, true])('restore swap (separate WAL dir: %s)', (withWal) => {
  it('swaps <dataDir>/member, never the data dir itself, which may be a mount point', async () => {
    const dirs = layout(withWal);
    const run = await runWithMountPoints(
      swapInScript(dirs, STAMP),
      [dirs.dataDir, dirs.walDir].filter(Boolean),
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(db(dirs)).toBe('new');
    const p = restorePaths(dirs, STAMP);
    expect(readFileSync(join(p.asideMember, 'snap', 'db'), 'utf8')).toBe('old');
    expect(existsSync(p.freshData)).toBe(false);
    if (withWal) {
      expect(wal(dirs)).toBe('new wal');
      expect(readFileSync(join(p.asideWal!, '0000000000000000-0000000000000000.wal'), 'utf8')).toBe(
        'old wal',
      );
      expect(readdirSync(dirs.walDir).sort()).toEqual(
        ['0000000000000000-0000000000000000.wal', `kubesmith-before-restore-${STAMP}`].sort(),
      );
    }
  });

  it('swaps back to the old data after a full swap, and is harmless when nothing was swapped', async () => {
    const dirs = layout(withWal);
    const mounts = [dirs.dataDir, dirs.walDir].filter(Boolean);
    expect((await runWithMountPoints(swapInScript(dirs, STAMP), mounts)).exitCode).toBe(0);
    const back = await runWithMountPoints(swapBackScript(dirs, STAMP), mounts);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(db(dirs)).toBe('old');
    if (withWal) expect(wal(dirs)).toBe('old wal');
    const untouched = layout(withWal);
    const noop = await runWithMountPoints(swapBackScript(untouched, STAMP), mounts);
    expect(noop.exitCode, noop.stderr).toBe(0);
    expect(db(untouched)).toBe('old');
  });

  it('swaps back after a swap that stopped half-way (old member aside, new one not in yet)', async () => {
    const dirs = layout(withWal);
    const p = restorePaths(dirs, STAMP);
    await execa('mv', [join(dirs.dataDir, 'member'), p.asideMember]);
    const back = await runWithMountPoints(swapBackScript(dirs, STAMP), [dirs.dataDir]);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(db(dirs)).toBe('old');
  });
});

describe('retiring a removed member', () => {
  it('moves the data aside inside the (mounted) data dir and deletes the etcd certificates and keys', () => {
    const script = retireMemberScript({ dataDir: '/data/etcd', walDir: '' }, STAMP, false);
    expect(script).toContain(`rm -rf ${ETCD_PATHS.pki}`);
    expect(script).not.toMatch(/mv \/data\/etcd /);
  });

  it.each([false, true])('works on mount points (purge: %s)', async (purge) => {
    const dirs = layout(true);
    const script = retireMemberScript(dirs, STAMP, purge).replace(
      ETCD_PATHS.pki,
      join(dirs.dataDir, 'no-pki'),
    );
    const run = await runWithMountPoints(script, [dirs.dataDir, dirs.walDir]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(existsSync(join(dirs.dataDir, 'member'))).toBe(false);
    expect(existsSync(join(dirs.walDir, '0000000000000000-0000000000000000.wal'))).toBe(false);
    const kept = join(dirs.dataDir, `kubesmith-removed-${STAMP}`, 'member', 'snap', 'db');
    expect(existsSync(kept)).toBe(!purge);
  });
});
