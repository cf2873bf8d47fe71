import { type Bootstrap, etcdctl, LOCAL_ENDPOINT } from '../components/etcd.js';
import { runData } from '../engine/run-data.js';
import type { Step, StepContext } from '../engine/step.js';
import { inTurn } from '../engine/turns.js';
import { joinAction, joiningInitialCluster, memberOf } from '../etcd/members.js';
import { listMembers, promote, retrying, untilHealthy } from '../etcd/membership-ops.js';
import { memberAddSchema, peerUrl, readEtcdJson } from '../etcd/ops.js';
import { ANCHOR, JOIN_ORDER } from '../etcd/run-keys.js';
import { etcd, JOINING } from './etcd.js';

/**
 * The act phase of add-etcd: each joining host in turn (the plan's order; a failed turn stops
 * the rest) is added as a learner with the membership of that moment, started by the etcd step
 * with --initial-cluster-state=existing, and promoted once caught up. A learner an earlier run
 * added but never started is found by its peer URL and started, so a re-run finishes the job.
 */
export const etcdJoin: Step = {
  id: 'etcd-join',
  title: 'new members join one at a time: added as learner, started, promoted once caught up',
  // Turns go in the plan's order: every joining host must be waiting, none holding a slot.
  allHostsAtOnce: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const order = data.need(JOIN_ORDER);
    if (!order.includes(ctx.host.name)) return;
    const anchor = data.need(ANCHOR);
    await inTurn(ctx.shared, 'etcd-join', order, ctx.host.name, async () => {
      const { host, signal } = ctx;
      const conn = anchor.conn();
      const now = await listMembers(conn, signal);
      const action = joinAction(host, now);
      let member = memberOf(host, now);
      if (action === 'add') {
        // etcd refuses a new member until the last one has been up for a few seconds: wait and retry.
        await untilHealthy(conn, signal);
        const argv = etcdctl(
          LOCAL_ENDPOINT,
          'member',
          'add',
          host.name,
          `--peer-urls=${peerUrl(host)}`,
          '--learner',
          '-w',
          'json',
        );
        const added = readEtcdJson(
          memberAddSchema,
          (await retrying(conn, argv, signal)).stdout,
          'member add',
        );
        member = added.member;
        await startJoining(ctx, joiningInitialCluster(added.members, member, host.name));
      } else if (action === 'start') {
        ctx.log(`${host.name} was added by an earlier run but never started: starting it`);
        await startJoining(ctx, joiningInitialCluster(now, member!, host.name));
      } else if (action === 'promote') ctx.log(`${host.name} is a learner from an earlier run: promoting it`);
      if (action === 'skip' || !member) return;
      if (member.isLearner || action === 'add') {
        await promote(conn, host.name, member.ID, signal);
        ctx.log(`${host.name} promoted to a voting member`);
      }
    });
  },
};

/** Starts a learner through the etcd step, its bootstrap flags taken from JOINING for this turn only. */
async function startJoining(ctx: StepContext, initialCluster: string): Promise<void> {
  ctx.log(`${ctx.host.name} added as a learner; starting it with --initial-cluster-state=existing`);
  let joining = ctx.shared.get(JOINING) as Map<string, Bootstrap> | undefined;
  if (!joining) {
    joining = new Map();
    ctx.shared.set(JOINING, joining);
  }
  joining.set(ctx.host.name, { initialCluster, state: 'existing' });
  try {
    await etcd.run(ctx);
  } finally {
    joining.delete(ctx.host.name);
  }
}
