import type { Step } from '../engine/step.js';
import { ETCD_UNIT } from '../nodes/footprint.js';
import { stopInOrder } from '../power/units.js';

/** stop, last phase: etcd stopped and disabled on every member, once nothing uses it any more. */
export const etcdStop: Step = {
  id: 'etcd-stop',
  title: 'stop: etcd stopped and disabled on every member',
  allHostsAtOnce: true,
  async run(ctx) {
    await stopInOrder(ctx, [ETCD_UNIT]);
  },
};
