import { waitHealthyScript } from '../components/etcd.js';
import type { Step } from '../engine/step.js';
import { ETCD_UNIT } from '../nodes/footprint.js';
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
    await ctx.apply([unitState(ETCD_UNIT, 'started', true)]);
    await waitFor(
      ctx,
      waitHealthyScript(HEALTH_TIMEOUT_SECONDS),
      `etcd is not healthy ${HEALTH_TIMEOUT_SECONDS} s after it started`,
      'every member must be up for quorum: journalctl -u etcd on each member says why one is not',
    );
  },
};
