import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeBackupName, latestBackup } from '../../../src/etcd/backups.js';

function backup(dir: string, name: string, safety?: boolean) {
  mkdirSync(join(dir, name));
  const manifest = {
    format: 1,
    cluster: 'c',
    createdAt: name,
    kubesmithVersion: '0.1.0',
    etcdVersion: '3.5.21',
    members: ['m1'],
    takenFrom: 'm1',
    revision: 5,
    keyCount: 2,
    snapshot: { file: 'snapshot.db', sha256: 'a'.repeat(64), size: 1, hash: 1, totalKey: 2 },
    ...(safety === undefined ? {} : { safety }),
  };
  writeFileSync(join(dir, name, 'manifest.json'), JSON.stringify(manifest));
}

describe('restore latest', () => {
  it("never picks a restore's safety snapshot, even the newest one", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-backups-'));
    backup(dir, '2026-01-01T00-00-00Z');
    backup(dir, '2026-01-02T00-00-00Z', false);
    backup(dir, '2026-01-03T00-00-00Z', true);
    expect((await latestBackup(dir))?.name).toBe('2026-01-02T00-00-00Z');
  });

  it('finds none when there are only safety snapshots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-backups-'));
    backup(dir, '2026-01-03T00-00-00Z', true);
    expect(await latestBackup(dir)).toBeUndefined();
  });
});

describe('backup names', () => {
  it('two backups within one second get distinct names, and the later one counts as newer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-backups-'));
    const at = new Date('2026-11-29T17:01:08.123Z');
    const first = freeBackupName(dir, at);
    expect(first).toBe('2026-11-29T17-01-08Z');
    backup(dir, first);
    const second = freeBackupName(dir, at);
    expect(second).toBe('2026-11-29T17-01-08Z-2');
    backup(dir, second, false);
    expect((await latestBackup(dir))?.name).toBe(second);
    mkdirSync(join(dir, `.${freeBackupName(dir, at)}.partial`));
    expect(freeBackupName(dir, at)).toBe('2026-11-29T17-01-08Z-4');
  });
});
