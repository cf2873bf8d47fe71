import { etcdctl, etcdMembers, LOCAL_ENDPOINT } from '../components/etcd.js';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { hexId, memberOf } from '../etcd/members.js';
import { listMembers, retrying, untilHealthy } from '../etcd/membership-ops.js';
import { ANCHOR, LEAVE_ORDER, LEAVE_REQUEST } from '../etcd/run-keys.js';

/**
 * The act phase of del-etcd: members removed one at a time through the healthy member the plan
 * chose, each only once the cluster is healthy (a removal can cost it its leader: the command is
 * retried while it elects a new one). A failed removal stops the rest.
 */
export const etcdLeave: DeployStep = {
  id: 'etcd-leave',
  title: 'members removed from etcd one at a time, the cluster healthy before each',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const before = etcdMembers(data.need(LEAVE_REQUEST).before);
    const conn = data.need(ANCHOR).conn();
    const current = await listMembers(conn, ctx.signal);
    for (const name of data.need(LEAVE_ORDER)) {
      const member = memberOf(before.find((h) => h.name === name)!, current);
      if (!member) {
        ctx.log(`${name} is no longer an etcd member`);
        continue;
      }
      await untilHealthy(conn, ctx.signal);
      await retrying(conn, etcdctl(LOCAL_ENDPOINT, 'member', 'remove', hexId(member.ID)), ctx.signal);
      ctx.changed(name);
      ctx.log(`${name} removed from the cluster`);
    }
  },
};
