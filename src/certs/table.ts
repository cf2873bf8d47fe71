import { formatTable } from '../render/table.js';
import type { CertRow } from './judge.js';

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

/** The expiry table: host, file, subject, issuer, not after, days left, status and why. */
export function formatCertTable(rows: readonly CertRow[]): string {
  return formatTable(
    ['HOST', 'FILE', 'SUBJECT', 'ISSUER', 'NOT AFTER', 'DAYS', 'STATUS', 'NOTE'],
    rows.map((r) => [
      r.host,
      r.file,
      r.subject ?? '-',
      r.issuer ?? '-',
      r.notAfter ? r.notAfter.slice(0, 16).replace('T', ' ') : '-',
      r.daysLeft === undefined ? '-' : String(r.daysLeft),
      MARK[r.status],
      r.notes.join('; '),
    ]),
  );
}

/** One line under the table: how many of each, and the earliest expiry. */
export function certSummary(rows: readonly CertRow[]): string {
  const count = (s: CertRow['status']) => rows.filter((r) => r.status === s).length;
  const dated = rows.filter((r) => r.daysLeft !== undefined).sort((a, b) => a.daysLeft! - b.daysLeft!);
  const first = dated[0];
  const hosts = new Set(rows.map((r) => r.host)).size;
  return `${rows.length} certificate(s) on ${hosts} host(s): ${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failure(s)${first ? `; earliest expiry ${first.notAfter!.slice(0, 10)} (${first.host} ${first.file}, ${first.daysLeft} days)` : ''}`;
}
