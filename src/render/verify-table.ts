import type { VerifyReport } from '../verify/report.js';
import { formatTable } from './table.js';

/**
 * The checks as a table, each warn or fail followed by its evidence and hint (ok ones show
 * their evidence only when verbose), then the counts.
 */
export function formatVerifyReport(report: VerifyReport, options: { verbose?: boolean } = {}): string {
  const lines = formatTable(
    ['STATUS', 'CHECK', 'SUMMARY'],
    report.checks.map((c) => [c.status.toUpperCase(), c.id, c.summary]),
  ).split('\n');
  const details = report.checks.flatMap((c) => {
    if (c.status === 'ok' && !options.verbose) return [];
    return [
      `${c.status.toUpperCase()} ${c.id}`,
      ...c.evidence.map((e) => `    ${e}`),
      ...(c.hint ? [`    hint: ${c.hint}`] : []),
    ];
  });
  const { ok, warn, fail } = report.counts;
  return [
    ...lines,
    ...(details.length ? ['', ...details] : []),
    '',
    `verify ${report.cluster}: ${ok} ok, ${warn} warn, ${fail} fail`,
  ].join('\n');
}
