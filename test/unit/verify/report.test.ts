import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatVerifyReport } from '../../../src/render/verify-table.js';
import { buildReport, type Check, verifyReportJsonSchema } from '../../../src/verify/report.js';

const SCHEMA_FILE = join(import.meta.dirname, '..', '..', '..', 'schema', 'verify-report.schema.json');

const checks: Check[] = [
  {
    id: 'etcd/health',
    area: 'etcd',
    status: 'ok',
    summary: '3 member(s) healthy',
    evidence: ['m1: healthy'],
  },
  {
    id: 'nodes/ready',
    area: 'nodes',
    status: 'fail',
    summary: 'n2 Ready=Unknown',
    evidence: ['n2 Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)'],
    hint: 'on that host: systemctl status kubelet',
  },
  { id: 'certificates/expiry', area: 'certificates', status: 'warn', summary: 'soon', evidence: ['ca.crt'] },
];

describe('verify report', () => {
  it('is ok only when no check failed, and counts each verdict', () => {
    const report = buildReport('lab', checks, new Date('2026-11-29T12:00:00Z'));
    expect(report).toMatchObject({ cluster: 'lab', ok: false, counts: { ok: 1, warn: 1, fail: 1 } });
    expect(buildReport('lab', [checks[0]!, checks[2]!]).ok).toBe(true);
  });

  it('schema/verify-report.schema.json is what the zod schema generates (npm run schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(verifyReportJsonSchema());
  });

  it('the committed JSON Schema accepts a report and rejects a bad verdict', () => {
    const schema = z.fromJSONSchema(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
    const report = buildReport('lab', checks);
    expect(schema.safeParse(JSON.parse(JSON.stringify(report))).success).toBe(true);
    const bad = { ...report, checks: [{ ...checks[0], status: 'fine' }] };
    expect(schema.safeParse(bad).success).toBe(false);
  });

  it('the table lists every check and shows evidence and hint of those not ok', () => {
    const text = formatVerifyReport(buildReport('lab', checks));
    expect(text).toMatch(/^STATUS\s+CHECK\s+SUMMARY/);
    expect(text).toMatch(/FAIL\s+nodes\/ready\s+n2 Ready=Unknown/);
    expect(text).toContain('    n2 Ready=Unknown (NodeStatusUnknown');
    expect(text).toContain('    hint: on that host: systemctl status kubelet');
    expect(text).not.toContain('m1: healthy');
    expect(formatVerifyReport(buildReport('lab', checks), { verbose: true })).toContain('m1: healthy');
    expect(text.trim().split('\n').at(-1)).toBe('verify lab: 1 ok, 1 warn, 1 fail');
  });
});
