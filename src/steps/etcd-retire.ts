import { runData } from '../engine/run-data.js';
import type { Step } from '../engine/step.js';
import { dirsOf, retiredPaths, retireMemberScript } from '../etcd/data-swap.js';
import { LEAVE_REQUEST, LEAVE_STAMP } from '../etcd/run-keys.js';

/**
 * On each removed host: etcd stopped and disabled, `<dataDir>/member` (and the WAL files) moved
 * aside inside their directories, or purged, and /etc/etcd/pki deleted (its keys are credentials).
 */
export const etcdRetire: Step = {
  id: 'etcd-retire',
  title: 'removed members retired: etcd stopped and disabled, data kept aside (or purged), keys deleted',
  async run(ctx) {
    const data = runData(ctx.shared);
    const { names, purge } = data.need(LEAVE_REQUEST);
    if (!names.includes(ctx.host.name)) return;
    const dirs = dirsOf(ctx.inventory);
    const stamp = data.need(LEAVE_STAMP);
    await ctx.conn.run(['sh', '-c', retireMemberScript(dirs, stamp, purge)], { signal: ctx.signal });
    ctx.log(
      `${ctx.host.name}: etcd stopped and disabled, /etc/etcd/pki deleted, data ${purge ? 'purged' : `kept at ${retiredPaths(dirs, stamp).join(' and ')}`}`,
    );
  },
};
