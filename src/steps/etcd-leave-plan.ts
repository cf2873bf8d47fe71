import { ETCD_PATHS, etcdMembers } from '../components/etcd.js';
import { runData } from '../engine/run-data.js';
import type { DeployStep } from '../engine/step.js';
import { InputError } from '../errors.js';
import { backupName } from '../etcd/backups.js';
import { memberLabel, memberOf } from '../etcd/members.js';
import { findAnchor } from '../etcd/membership-ops.js';
import { removalRefusal } from '../etcd/quorum.js';
import { ANCHOR, LEAVE_ORDER, LEAVE_REQUEST, LEAVE_STAMP, SNAPSHOT_REQUEST } from '../etcd/run-keys.js';

/**
 * The plan and guard of del-etcd, before anything changes: a healthy remaining member to work
 * from, the membership it reads (members matched by peer URL, so one added but never started is
 * found too), and the quorum guard over it (never the last member, never below quorum with the
 * unhealthy members counted, an even count only with --force). Unhealthy members go first.
 */
export const etcdLeavePlan: DeployStep = {
  id: 'etcd-leave-plan',
  title: 'del-etcd plan and quorum guard: the membership read from a healthy remaining member',
  onDeployMachine: true,
  async run(ctx) {
    const data = runData(ctx.shared);
    const request = data.need(LEAVE_REQUEST);
    const all = etcdMembers(request.before);
    const remaining = all.filter((h) => !request.names.includes(h.name));
    const { anchor, current, healthy } = await findAnchor(request.before, remaining, ctx.conn, ctx.signal);
    const leaving = request.names.map((n) => all.find((h) => h.name === n)!);
    // Hosts already out of the membership (an earlier, interrupted run) are only retired and dropped from the inventory.
    const toRemove = leaving.filter((h) => memberOf(h, current));
    for (const h of leaving.filter((x) => !toRemove.includes(x)))
      ctx.log(`${h.name} is no longer an etcd member: only retired and dropped from the inventory`);
    const connected = new Set(ctx.hosts.map((h) => h.name));
    const dataDir = ctx.inventory.etcd.dataDir;
    for (const h of leaving.filter((x) => !connected.has(x.name)))
      ctx.log(
        `${h.name} is unreachable: it is removed all the same; there, stop and disable etcd, move ${dataDir}/member aside and delete ${ETCD_PATHS.pki} (its keys are credentials) by hand`,
      );
    const refusal = removalRefusal({
      members: current.map((m) => memberLabel(m, all)),
      healthy,
      remove: toRemove.map((h) => h.name),
      force: request.force,
    });
    if (refusal) throw new InputError(`del-etcd refused: ${refusal}`);
    const order = [...toRemove].sort((a, b) => Number(healthy.has(a.name)) - Number(healthy.has(b.name)));
    data.set(ANCHOR, { name: anchor.name, conn: () => ctx.conn(anchor.name) });
    data.set(
      LEAVE_ORDER,
      order.map((h) => h.name),
    );
    data.set(LEAVE_STAMP, backupName());
    data.set(SNAPSHOT_REQUEST, {
      note: `before del-etcd ${request.names.join(' ')}`,
      prune: true,
      safety: false,
    });
  },
};
