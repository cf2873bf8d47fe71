import type { Writable } from 'node:stream';
import type { RunEvent } from '../engine/events.js';
import type { Renderer } from './renderer.js';
import { formatSummary } from './summary.js';
import { formatDuration } from './table.js';
import { formatVerifyReport } from './verify-table.js';

/** Line output for CI, pipes and the run log: one line per event, host first. */
export function plainRenderer(out: Writable, options: { verbose?: boolean } = {}): Renderer {
  const write = (line: string) => out.write(`${line}\n`);
  const sink = (event: RunEvent) => {
    switch (event.type) {
      case 'run-start':
        write(
          `${event.command} ${event.cluster}: ${event.steps.length} step(s)${event.dryRun ? ' (dry run: nothing will change)' : ''}`,
        );
        if (event.logFile) write(`log: ${event.logFile}`);
        break;
      case 'connect':
        if (!event.ok || options.verbose)
          write(
            `${event.host}  connect  ${event.ok ? 'ok' : 'FAILED'}  ${formatDuration(event.durationMs)}${event.error ? `  ${event.error.message}` : ''}`,
          );
        break;
      case 'step-start':
        write(`== ${event.step}: ${event.title} (${event.hosts.length} host(s))`);
        break;
      case 'action': {
        const r = event.result;
        if (r.status === 'ok' && !options.verbose) break;
        write(
          `${event.host}  ${event.step}  ${r.status} ${r.kind} ${r.target}${r.detail ? ` (${r.detail})` : ''}  ${formatDuration(r.durationMs)}`,
        );
        if (r.diff) write(r.diff.trimEnd());
        break;
      }
      case 'run-log':
        write(`deploy  ${event.message}`);
        break;
      case 'host-log':
        write(`${event.host}  ${event.step}  ${event.message}`);
        break;
      case 'host-end':
        write(
          `${event.host}  ${event.step}  ${event.status.toUpperCase()}  ${event.changed} changed  ${formatDuration(event.durationMs)}${event.error ? `  ${event.error.message}` : ''}`,
        );
        if (event.error?.stderrTail) write(event.error.stderrTail.replace(/^/gm, '    '));
        if (event.error?.hint) write(`    hint: ${event.error.hint}`);
        break;
      case 'step-end':
        break;
      case 'verify-report':
        write(formatVerifyReport(event.report, options));
        break;
      case 'run-end':
        write(formatSummary(event.summary));
        write(`${event.ok ? 'done' : 'FAILED'} in ${formatDuration(event.durationMs)}`);
        break;
    }
  };
  return { sink, close: async () => undefined };
}
