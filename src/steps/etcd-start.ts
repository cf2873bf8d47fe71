import { waitHealthyScript } from '../components/etcd.js';
import { runData } from '../engine/run-data.js';
import type { Step } from '../engine/step.js';
import { SNAPSHOT_REQUEST } from '../etcd/run-keys.js';
import { ETCD_UNIT } from '../nodes/footprint.js';
import { DESTROY_REQUEST } from '../power/run-keys.js';
import { unitState, waitFor } from '../power/units.js';

const HEALTH_TIMEOUT_SECONDS = 120;

/**
 * start, first phase: etcd enabled and started on every member at once (a lone member waits for
 * quorum, so the start does not block on readiness), then each member healthy.
 */
export const etcdStart: Step = {
  id: 'etcd-start',
  title: 'start: etcd started on every member at once, each healthy',
  allHostsAtOnce: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    // destroy starts etcd only for its last snapshot, and only where an earlier destroy left the unit.
    if (data.get(DESTROY_REQUEST)) {
      if (!data.get(SNAPSHOT_REQUEST))
        return ctx.log('no snapshot asked (--no-snapshot): etcd left as it is');
      const unit = await ctx.conn.exec(['systemctl', 'cat', `${ETCD_UNIT}.service`], { signal: ctx.signal });
      if (unit.exitCode !== 0)
        return ctx.log(`no etcd unit here (an earlier destroy removed it): nothing to start`);
    }
    await ctx.apply([unitState(ETCD_UNIT, 'started', true)]);
    await waitFor(
      ctx,
      waitHealthyScript(HEALTH_TIMEOUT_SECONDS),
      `etcd is not healthy ${HEALTH_TIMEOUT_SECONDS} s after it started`,
      'every member must be up for quorum: journalctl -u etcd on each member says why one is not',
    );
  },
};
