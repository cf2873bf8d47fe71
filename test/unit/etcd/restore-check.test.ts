import { describe, expect, it } from 'vitest';
import { type BackupManifest, backupManifestSchema } from '../../../src/etcd/backups.js';
import { judgeRestore } from '../../../src/etcd/restore-check.js';

const manifest = (revision: number, keyCount: number, extra: Partial<BackupManifest> = {}) =>
  backupManifestSchema.parse({
    format: 1,
    cluster: 'c',
    createdAt: '2026-01-01T00:00:00Z',
    kubesmithVersion: '0.1.0',
    etcdVersion: '3.5.16',
    members: ['m1'],
    takenFrom: 'm1',
    revision,
    keyCount,
    snapshot: { file: 'snapshot.db', sha256: 'a'.repeat(64), size: 1, hash: 1, totalKey: keyCount },
    keyCountAtRevision: true,
    ...extra,
  });

describe('judging a restored cluster against its backup', () => {
  it('accepts the backup of an empty cluster: revision 0 in the snapshot, 1 once restored, 0 keys', () => {
    expect(judgeRestore({ revision: 1, keyCountAtBackupRevision: 0 }, manifest(0, 0))).toEqual({});
  });

  it('accepts a restore written to afterwards: keys are counted at the backup revision', () => {
    expect(
      judgeRestore({ revision: 10_050, keyCountAtBackupRevision: 10_000 }, manifest(10_001, 10_000)),
    ).toEqual({});
  });

  it('refuses a restore behind the backup, or with other keys', () => {
    expect(judgeRestore({ revision: 5, keyCountAtBackupRevision: 3 }, manifest(9, 3)).mismatch).toMatch(
      /behind/,
    );
    expect(judgeRestore({ revision: 9, keyCountAtBackupRevision: 2 }, manifest(9, 3)).mismatch).toMatch(
      /2 keys at revision 9; the backup has 3/,
    );
  });

  it('a bumped restore must be at least the bump past the backup, its keys counted there', () => {
    const bump = 1_000_000_000;
    expect(
      judgeRestore(
        { revision: 10_001 + bump, keyCountAtBackupRevision: 10_000 },
        manifest(10_001, 10_000),
        bump,
      ),
    ).toEqual({});
    expect(
      judgeRestore({ revision: 10_050, keyCountAtBackupRevision: 10_000 }, manifest(10_001, 10_000), bump)
        .mismatch,
    ).toMatch(/behind the backup's 10001 plus the restore's bump/);
    expect(judgeRestore({ revision: bump, keyCountAtBackupRevision: 0 }, manifest(0, 0), bump)).toEqual({});
  });

  it('only notes a count difference for older backups, whose count was read before the snapshot', () => {
    const verdict = judgeRestore(
      { revision: 9, keyCountAtBackupRevision: 2 },
      manifest(9, 3, { keyCountAtRevision: false }),
    );
    expect(verdict.mismatch).toBeUndefined();
    expect(verdict.note).toMatch(/counted before its snapshot/);
  });

  it('reads manifests written before safety snapshots were marked', () => {
    const old = manifest(1, 1);
    expect(
      backupManifestSchema.parse({ ...old, safety: undefined, keyCountAtRevision: undefined }),
    ).toMatchObject({
      safety: false,
      keyCountAtRevision: false,
    });
  });
});
