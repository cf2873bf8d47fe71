import { z } from 'zod';
import { ETCD_QUOTA_BYTES, etcdMembers } from '../components/etcd.js';
import { healthByMember, healthSchema, memberListSchema, parseEtcdJson, peerUrl } from '../etcd/ops.js';
import { addressOfUrl, sameAddress } from '../inventory/net.js';
import type { HostSpec, Inventory } from '../inventory/schema.js';
import type { Check } from './report.js';

/** etcdctl's JSON answers, as one member printed them (empty when it could not be asked). */
export interface EtcdAnswers {
  via: string;
  health: string;
  status: string;
  members: string;
  alarms: string;
}

const statusSchema = z.array(
  z
    .object({
      Endpoint: z.string(),
      Status: z
        .object({
          header: z.object({ member_id: z.string() }).loose(),
          version: z.string(),
          dbSize: z.number(),
          leader: z.string(),
        })
        .loose(),
    })
    .loose(),
);
/** etcd's AlarmType enum, as its JSON prints it (a number) or as text. */
const ALARM_NAMES: Record<string, string> = { '0': 'NONE', '1': 'NOSPACE', '2': 'CORRUPT' };
const alarmsSchema = z
  .object({
    alarms: z
      .array(
        z
          .object({
            memberID: z.union([z.number(), z.string()]).transform(String),
            alarm: z.union([z.number(), z.string()]).transform((a) => ALARM_NAMES[String(a)] ?? String(a)),
          })
          .loose(),
      )
      .default([]),
  })
  .loose();

const HINT_MEMBER = 'on that host: systemctl status etcd; journalctl -u etcd -n 50';
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

function read<T>(schema: z.ZodType<T>, text: string): T | undefined {
  if (!text.trim()) return undefined;
  try {
    return schema.parse(parseEtcdJson(text));
  } catch {
    return undefined;
  }
}

const byAddress = (url: string, member: HostSpec) => {
  const address = addressOfUrl(url);
  return address !== undefined && sameAddress(address, member.address);
};

function healthCheck(answers: EtcdAnswers, wanted: HostSpec[]): Check {
  const health = read(healthSchema, answers.health);
  if (!health)
    return {
      id: 'etcd/health',
      area: 'etcd',
      status: 'fail',
      summary: `etcd could not be asked through ${answers.via}`,
      evidence: [answers.health.trim() || 'no answer'],
      hint: HINT_MEMBER,
    };
  const healthy = healthByMember(health, wanted);
  const sick = wanted.filter((m) => !healthy.get(m.name));
  return {
    id: 'etcd/health',
    area: 'etcd',
    status: sick.length ? 'fail' : 'ok',
    summary: sick.length
      ? `${sick.length} of ${wanted.length} member(s) unhealthy: ${sick.map((m) => m.name).join(', ')}`
      : `${wanted.length} member(s) healthy`,
    evidence: wanted.map((m) => {
      const entry = health.find((h) => byAddress(h.endpoint, m));
      return `${m.name}: ${entry ? (entry.health ? 'healthy' : `unhealthy: ${entry.error ?? 'no reason given'}`) : 'no answer'}`;
    }),
    ...(sick.length ? { hint: HINT_MEMBER } : {}),
  };
}

function membersCheck(answers: EtcdAnswers, wanted: HostSpec[]): Check {
  const list = read(memberListSchema, answers.members);
  if (!list)
    return {
      id: 'etcd/members',
      area: 'etcd',
      status: 'fail',
      summary: 'the member list could not be read',
      evidence: [answers.members.trim() || 'no answer'],
      hint: HINT_MEMBER,
    };
  const missing = wanted.filter((m) => !list.members.some((x) => x.peerURLs.includes(peerUrl(m))));
  const strangers = list.members.filter((x) => !wanted.some((m) => x.peerURLs.includes(peerUrl(m))));
  const learners = list.members.filter((x) => x.isLearner);
  const problems = [
    ...missing.map((m) => `${m.name} (${peerUrl(m)}) is in the inventory but not a member`),
    ...strangers.map((x) => `member ${x.name || x.ID} (${x.peerURLs.join(', ')}) is not in the inventory`),
    ...learners.map((x) => `member ${x.name || x.ID} is still a learner`),
  ];
  return {
    id: 'etcd/members',
    area: 'etcd',
    status: missing.length || strangers.length ? 'fail' : learners.length ? 'warn' : 'ok',
    summary: problems.length ? problems[0]! : `members = inventory (${wanted.length})`,
    evidence: problems.length ? problems : list.members.map((x) => `${x.name} ${x.peerURLs.join(',')}`),
    ...(problems.length
      ? { hint: 'add-etcd / del-etcd bring the membership and the inventory together' }
      : {}),
  };
}

function storageCheck(answers: EtcdAnswers, wanted: HostSpec[]): Check {
  const status = read(statusSchema, answers.status) ?? [];
  const largest = Math.max(0, ...status.map((s) => s.Status.dbSize));
  const leaders = new Set(status.map((s) => s.Status.leader));
  const alarmList = read(alarmsSchema, answers.alarms);
  const alarms = alarmList?.alarms ?? [];
  const problems = [
    ...(alarmList ? [] : ['the alarm list could not be read']),
    ...(status.length && leaders.size !== 1
      ? [`members disagree on the leader (${[...leaders].join(', ')})`]
      : []),
    ...(status.some((s) => s.Status.leader === '0') ? ['no leader'] : []),
    ...alarms.map((a) => `alarm ${a.alarm} on member ${a.memberID}`),
  ];
  const full = largest / ETCD_QUOTA_BYTES;
  const status_ = problems.length || full >= 0.95 ? 'fail' : full >= 0.8 ? 'warn' : 'ok';
  return {
    id: 'etcd/storage',
    area: 'etcd',
    status: status.length ? status_ : 'fail',
    summary: status.length
      ? `database ${mib(largest)} of ${mib(ETCD_QUOTA_BYTES)}; ${alarms.length} alarm(s)${problems.length ? `; ${problems[0]}` : ''}`
      : 'no member reported its status',
    evidence: [
      ...wanted.map((m) => {
        const s = status.find((x) => byAddress(x.Endpoint, m));
        return `${m.name}: ${s ? `etcd ${s.Status.version}, db ${mib(s.Status.dbSize)}, leader ${s.Status.leader}` : 'no status'}`;
      }),
      ...problems,
    ],
    ...(status_ !== 'ok' || !status.length
      ? { hint: 'a NOSPACE alarm needs a compaction and defrag, then `etcdctl alarm disarm`' }
      : {}),
  };
}

/** Health of every member, membership = inventory, database size against the quota, alarms. */
export function etcdChecks(answers: EtcdAnswers, inv: Inventory): Check[] {
  const wanted = etcdMembers(inv);
  return [healthCheck(answers, wanted), membersCheck(answers, wanted), storageCheck(answers, wanted)];
}
