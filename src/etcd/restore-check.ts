import type { BackupManifest } from './backups.js';

export interface RestoredState {
  /** The restored cluster's current revision. */
  revision: number;
  /** Keys at the backup's revision, read from the restored cluster (0 for a backup at revision 0). */
  keyCountAtBackupRevision: number;
}

export interface RestoreVerdict {
  /** Why the restored data is not the backup's, or undefined when it is. */
  mismatch?: string;
  /** What could not be checked exactly (backups from before the count was taken at the snapshot's revision). */
  note?: string;
}

/**
 * Whether the restored cluster holds the backup. Writes after the restore (its revision goes up)
 * do not matter: the keys are counted at the backup's own revision. An empty cluster's snapshot
 * says revision 0, and etcd starts an empty store at revision 1.
 */
export function judgeRestore(live: RestoredState, manifest: BackupManifest, bump = 0): RestoreVerdict {
  // A bumped restore starts `bump` revisions past the backup's.
  const lowest = Math.max(manifest.revision + bump, 1);
  if (live.revision < lowest)
    return {
      mismatch: `restored etcd is at revision ${live.revision}, behind the backup's ${manifest.revision}${bump ? ` plus the restore's bump of ${bump}` : ''}`,
    };
  if (live.keyCountAtBackupRevision === manifest.keyCount) return {};
  const counted = `restored etcd has ${live.keyCountAtBackupRevision} keys at revision ${manifest.revision + bump}; the backup has ${manifest.keyCount}`;
  if (!manifest.keyCountAtRevision)
    return {
      note: `${counted} (counted before its snapshot was taken, so writes in between show here; not a failure)`,
    };
  return { mismatch: counted };
}
