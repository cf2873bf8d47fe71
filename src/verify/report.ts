import { z } from 'zod';

export const CHECK_AREAS = [
  'etcd',
  'control-plane',
  'nodes',
  'network',
  'addons',
  'smoke',
  'certificates',
] as const;
export type CheckArea = (typeof CHECK_AREAS)[number];

export const CHECK_STATUSES = ['ok', 'warn', 'fail'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export const checkSchema = z.strictObject({
  /** Stable id, `area/what` (e.g. `etcd/members`), for scripts that look for one check. */
  id: z.string().regex(/^[a-z-]+\/[a-z0-9-]+$/),
  area: z.enum(CHECK_AREAS),
  status: z.enum(CHECK_STATUSES),
  /** One line: what was found. */
  summary: z.string(),
  /** What the verdict rests on, one fact per line (a host's answer, a pod's state). */
  evidence: z.array(z.string()),
  /** What to do about a warn or fail. */
  hint: z.string().optional(),
});
export type Check = z.output<typeof checkSchema>;

export const verifyReportSchema = z.strictObject({
  cluster: z.string(),
  checkedAt: z.iso.datetime(),
  /** True when no check failed (warnings allowed). */
  ok: z.boolean(),
  counts: z.strictObject({
    ok: z.number().int().nonnegative(),
    warn: z.number().int().nonnegative(),
    fail: z.number().int().nonnegative(),
  }),
  checks: z.array(checkSchema),
});
export type VerifyReport = z.output<typeof verifyReportSchema>;

/** The report's JSON Schema (schema/verify-report.schema.json), generated from the zod schema. */
export function verifyReportJsonSchema(): string {
  const schema = z.toJSONSchema(verifyReportSchema, { io: 'output' });
  return `${JSON.stringify({ ...schema, title: 'kubesmith verify report' }, null, 2)}\n`;
}

export function buildReport(cluster: string, checks: Check[], now = new Date()): VerifyReport {
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const counts = { ok: count('ok'), warn: count('warn'), fail: count('fail') };
  return { cluster, checkedAt: now.toISOString(), ok: counts.fail === 0, counts, checks };
}

/** The worst of several verdicts. */
export function worst(statuses: readonly CheckStatus[]): CheckStatus {
  return statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'ok';
}
