import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { errorMessage, InterruptedError, NoHealthyMemberError, OperationError, SshError } from '../errors.js';
import { ANCHOR, SNAPSHOT_REQUEST, SNAPSHOT_TAKEN } from '../etcd/run-keys.js';
import { type TakenBackup, takeSnapshot } from '../etcd/snapshot.js';

/**
 * The snapshot phase: a verified backup of etcd, taken on a healthy member, before any change.
 * What to take comes from the command or the plan phase (SNAPSHOT_REQUEST); without a request
 * there is nothing to change, so nothing to take. A restore's safety snapshot is skipped when no
 * member answers (there is nothing to save); any other failure of it stops the restore.
 */
export const etcdSnapshot: DeployStep = {
  id: 'etcd-snapshot',
  title: 'snapshot of etcd, copied to the deploy machine and verified',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.get(SNAPSHOT_REQUEST);
    if (!request) return ctx.log('nothing to change: no snapshot needed');
    const anchor = data.get(ANCHOR)?.name;
    if (!ctx.hosts.some((h) => h.roles.includes('etcd')))
      throw new SshError(
        '?',
        'other',
        'cannot take a snapshot: no etcd member could be reached over SSH (see the connect lines above)',
      );
    const place = {
      inventory: ctx.inventory,
      inventoryFile: ctx.inventoryFile,
      clusterDir: ctx.clusterDir,
      // The member the plan chose answers first: a host that has not joined yet cannot.
      members: ctx.hosts
        .filter((h) => h.roles.includes('etcd'))
        .sort((a, b) => Number(b.name === anchor) - Number(a.name === anchor)),
      conn: ctx.conn,
      signal: ctx.signal,
      say: ctx.log,
    };
    const taken = request.safety
      ? await safetySnapshot(() => takeSnapshot(place, request), ctx.log)
      : await takeSnapshot(place, request);
    data.set(SNAPSHOT_TAKEN, taken);
    if (taken) ctx.log(`${request.safety ? 'safety snapshot' : 'snapshot'} taken: ${taken.name}`);
  },
};

async function safetySnapshot(
  take: () => Promise<TakenBackup>,
  say: (line: string) => void,
): Promise<TakenBackup | undefined> {
  try {
    return await take();
  } catch (error) {
    if (error instanceof NoHealthyMemberError) {
      say(`no safety snapshot: the cluster does not answer (${error.message})`);
      return undefined;
    }
    if (error instanceof InterruptedError || error instanceof SshError) throw error;
    throw new OperationError(
      `the safety snapshot failed, so the restore stopped before changing anything: ${errorMessage(error)}`,
      'fix the cause (disk space on the deploy machine or the member, etcd health) and run restore again',
      { cause: error },
    );
  }
}
