import type { RunSummary } from '../engine/events.js';
import { formatTable } from './table.js';

/** The closing table of a run: one row per host, with what failed and what to do. */
export function formatSummary(summary: RunSummary): string {
  const rows = summary.hosts.map((h) => [
    h.host,
    h.status,
    String(h.changed),
    h.failedStep ?? '',
    [h.error?.message, h.error?.hint ? `hint: ${h.error.hint}` : ''].filter(Boolean).join(' — '),
  ]);
  const table = formatTable(['HOST', 'STATUS', 'CHANGED', 'FAILED AT', 'ERROR'], rows);
  const totals = `${summary.hosts.length} host(s), ${summary.changed} change(s), ${summary.failed} failed${summary.interrupted ? ', interrupted' : ''}`;
  return `${table}\n${totals}`;
}
