import { etcdMembers } from '../components/etcd.js';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { InputError, OperationError } from '../errors.js';
import { hexId, joinAction, strangers } from '../etcd/members.js';
import { findAnchor } from '../etcd/membership-ops.js';
import { ANCHOR, JOIN_NAMES, JOIN_ORDER, SNAPSHOT_REQUEST } from '../etcd/run-keys.js';

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/**
 * The plan and guard of add-etcd, before anything changes: a healthy member to work from, no
 * member the inventory does not know, no learner of an earlier run outside the named hosts, no
 * etcd host left out of the membership; then the order of the joins (learners of an earlier run
 * first: etcd takes one learner at a time) and, when anyone joins, the snapshot to take first.
 */
export const etcdJoinPlan: DeployStep = {
  id: 'etcd-join-plan',
  title: 'add-etcd plan and guard: the membership read from a healthy member',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const names = data.need(JOIN_NAMES);
    const wanted = etcdMembers(ctx.inventory);
    const others = wanted.filter((h) => !names.includes(h.name));
    if (others.length === 0)
      throw new InputError(
        'add-etcd needs a running member outside the hosts it adds; set up the cluster first',
      );
    const { anchor, current } = await findAnchor(ctx.inventory, others, ctx.conn, ctx.signal);
    const unknown = strangers(current, wanted);
    if (unknown.length)
      throw new OperationError(
        `etcd has member(s) the inventory does not list: ${unknown.map((m) => `${m.name || '(not started)'} ${m.peerURLs.join(',')} (id ${hexId(m.ID)})`).join('; ')}; add their hosts to the inventory, or remove them with etcdctl member remove`,
      );
    const pending = others.filter((h) => ['start', 'promote'].includes(joinAction(h, current)));
    if (pending.length)
      throw new OperationError(
        `${pending.map((h) => h.name).join(', ')} joined as learner(s) in an earlier add-etcd and ${plural(pending.length, 'is', 'are')} not voting yet: run add-etcd ${pending.map((h) => h.name).join(' ')} first (etcd takes one learner at a time)`,
      );
    const outside = others.filter((h) => joinAction(h, current) === 'add');
    if (outside.length)
      throw new InputError(
        `${outside.map((h) => h.name).join(', ')} ${plural(outside.length, 'has', 'have')} the etcd role but ${plural(outside.length, 'is', 'are')} no member: name ${plural(outside.length, 'it', 'them')} in add-etcd too`,
      );
    const hosts = names.map((n) => wanted.find((h) => h.name === n)!);
    for (const h of hosts.filter((x) => joinAction(x, current) === 'skip'))
      ctx.log(`${h.name} is already a voting member: skipped`);
    // Learners of an earlier run first: etcd takes one learner at a time.
    const rank = (action: string) => (action === 'add' ? 1 : 0);
    const joining = hosts
      .filter((h) => joinAction(h, current) !== 'skip')
      .sort((a, b) => rank(joinAction(a, current)) - rank(joinAction(b, current)));
    data.set(ANCHOR, { name: anchor.name, conn: () => ctx.conn(anchor.name) });
    data.set(
      JOIN_ORDER,
      joining.map((h) => h.name),
    );
    if (joining.length === 0) return ctx.log('nothing to add');
    ctx.log(
      `joining in this order: ${joining.map((h) => h.name).join(', ')} (commands run on ${anchor.name})`,
    );
    data.set(SNAPSHOT_REQUEST, {
      note: `before add-etcd ${joining.map((h) => h.name).join(' ')}`,
      prune: true,
      safety: false,
    });
  },
};
