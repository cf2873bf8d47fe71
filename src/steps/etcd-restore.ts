import { resolveArtifactFiles } from '../artifacts/resolve.js';
import { runData } from '../engine/run-data.js';
import type { DeployContext, DeployStep } from '../engine/step.js';
import { OperationError } from '../errors.js';
import { backupName } from '../etcd/backups.js';
import { listed, onEvery, replaceData } from '../etcd/restore-data.js';
import { RESTORE_BACKUP, RESTORE_STAMP, RESTORE_TOOL_VERSION } from '../etcd/run-keys.js';
import { cacheDir } from '../home.js';

/**
 * The act phase of restore: apiservers stopped where they run, every member's data replaced
 * from the backup all or nothing (src/etcd/restore-data.ts), and the apiservers started again
 * whatever happened. The etcd tool's version is resolved before any host changes.
 */
export const etcdRestore: DeployStep = {
  id: 'etcd-restore',
  title: 'etcd data replaced on every member from the backup, all or nothing (apiservers stopped meanwhile)',
  onDeployMachine: true,
  async preflight(ctx) {
    const data = runData(ctx.shared);
    const backup = data.need(RESTORE_BACKUP);
    const [arch = 'amd64'] = ctx.arches;
    const installed = await resolveArtifactFiles(ctx.inventory, ctx.inventoryFile, ['bin/etcd'], {
      arch,
      cacheDir: cacheDir(),
      signal: ctx.signal,
    });
    data.set(RESTORE_TOOL_VERSION, installed.get('bin/etcd')?.version ?? backup.manifest.etcdVersion);
  },
  async run(ctx) {
    const data = runData(ctx.shared);
    const stamp = backupName();
    data.set(RESTORE_STAMP, stamp);
    await withApiserversStopped(ctx, () =>
      replaceData({
        inventory: ctx.inventory,
        members: ctx.hosts.filter((h) => h.roles.includes('etcd')),
        conn: ctx.conn,
        backup: data.need(RESTORE_BACKUP),
        stamp,
        toolVersion: data.need(RESTORE_TOOL_VERSION),
        signal: ctx.signal,
        say: ctx.log,
        changed: ctx.changed,
      }),
    );
  },
};

/** Stops kube-apiserver where it runs, runs `fn`, and starts those apiservers again whatever happened. */
async function withApiserversStopped(ctx: DeployContext, fn: () => Promise<void>): Promise<void> {
  const masters = ctx.hosts.filter((h) => h.roles.includes('master'));
  const run = (host: string, script: string, useSignal = true) =>
    ctx.conn(host).run(['sh', '-c', script], useSignal ? { signal: ctx.signal } : {});
  const stopped: string[] = [];
  try {
    const failed = await onEvery(masters, async (h) => {
      const r = await run(
        h.name,
        'if systemctl is-active -q kube-apiserver 2>/dev/null; then systemctl stop kube-apiserver && echo stopped; fi',
      );
      if (r.stdout.includes('stopped')) stopped.push(h.name);
    });
    if (failed.size) throw new OperationError(`could not stop kube-apiserver: ${listed(failed)}`);
    await fn();
  } finally {
    const back = await onEvery(
      masters.filter((h) => stopped.includes(h.name)),
      (h) => run(h.name, 'systemctl start kube-apiserver', false),
    );
    if (back.size) ctx.log(`could not start kube-apiserver again: ${listed(back)}; start it by hand`);
    else if (stopped.length) ctx.log(`kube-apiserver started again on ${stopped.join(', ')}`);
  }
}
