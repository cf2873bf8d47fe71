import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { dirsOf, restorePaths } from '../etcd/data-swap.js';
import { canBumpRevision, keyCountAt, liveState, RESTORE_REVISION_BUMP } from '../etcd/ops.js';
import { judgeRestore } from '../etcd/restore-check.js';
import { RESTORE_BACKUP, RESTORE_RESULT, RESTORE_STAMP, RESTORE_TOOL_VERSION } from '../etcd/run-keys.js';

/**
 * The verify phase of restore: the restored cluster holds the backup (revision, and the number
 * of keys at the backup's own revision, so writes after the restore do not matter). A mismatch
 * fails the command; etcd keeps serving the restored data, the previous data stays aside.
 */
export const etcdRestoreVerify: DeployStep = {
  id: 'etcd-restore-verify',
  title: "restored etcd checked against the backup's revision and key count",
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const manifest = data.need(RESTORE_BACKUP).manifest;
    const members = ctx.hosts.filter((h) => h.roles.includes('etcd'));
    const conn = ctx.conn(members[0]!.name);
    const live = await liveState(conn, ctx.signal);
    // A bumped restore starts at the backup's revision plus the bump, everything before compacted.
    const bump = canBumpRevision(data.need(RESTORE_TOOL_VERSION)) ? RESTORE_REVISION_BUMP : 0;
    const counted =
      manifest.revision === 0 ? 0 : await keyCountAt(conn, manifest.revision + bump, ctx.signal);
    const verdict = judgeRestore(
      { revision: live.revision, keyCountAtBackupRevision: counted },
      manifest,
      bump,
    );
    const p = restorePaths(dirsOf(ctx.inventory), data.need(RESTORE_STAMP));
    const keptAside = members.map(
      (h) => `${h.name}:${p.asideMember}${p.asideWal ? ` and ${p.asideWal}` : ''}`,
    );
    if (verdict.note) ctx.log(`note: ${verdict.note}`);
    if (verdict.mismatch)
      throw new OperationError(
        `${verdict.mismatch}; etcd is serving the restored data, the previous data is kept at ${keptAside.join(', ')}`,
      );
    data.set(RESTORE_RESULT, { keptAside: keptAside.sort(), revision: live.revision, keyCount: counted });
  },
};
