import { Listr, type ListrTask } from 'listr2';
import type { HostStatus, RunEvent } from '../engine/events.js';
import type { Renderer } from './renderer.js';
import { formatSummary } from './summary.js';
import { formatDuration } from './table.js';
import { formatVerifyReport } from './verify-table.js';

interface Outcome {
  status: HostStatus;
  text: string;
}

interface Pending {
  promise: Promise<Outcome>;
  resolve: (outcome: Outcome) => void;
}

/** The listr2 task list for terminals: a task per step, a subtask per host, fed by engine events. */
export function ttyRenderer(out: NodeJS.WriteStream = process.stdout): Renderer {
  const pending = new Map<string, Pending>();
  const notes = new Map<string, string>();
  let running: Promise<unknown> = Promise.resolve();
  let closing = '';
  const runLogs: string[] = [];
  const reports: string[] = [];
  let ended = false;
  const key = (step: string, host: string) => `${step}\0${host}`;
  const slot = (k: string): Pending => {
    let p = pending.get(k);
    if (!p) {
      let resolve!: (o: Outcome) => void;
      const promise = new Promise<Outcome>((r) => {
        resolve = r;
      });
      p = { promise, resolve };
      pending.set(k, p);
      if (ended) resolve({ status: 'skipped', text: 'not run' });
    }
    return p;
  };
  const hostTask = (step: string, host: string): ListrTask => ({
    title: host,
    task: async (_ctx, task) => {
      const outcome = await slot(key(step, host)).promise;
      if (outcome.status === 'skipped') return task.skip(`${host}: ${outcome.text}`);
      if (outcome.status === 'failed') throw new Error(`${host}: ${outcome.text}`);
      task.title = `${host}: ${outcome.text}`;
    },
  });

  const sink = (event: RunEvent) => {
    switch (event.type) {
      case 'run-start': {
        const hosts = [...new Set(event.steps.flatMap((s) => s.hosts))];
        const tasks: ListrTask[] = [
          {
            title: 'Connect and check sudo',
            task: (_c, t) =>
              t.newListr(
                hosts.map((h) => hostTask('connect', h)),
                { concurrent: true, exitOnError: false },
              ),
          },
          ...event.steps.map(
            (s): ListrTask => ({
              title: `${s.id}: ${s.title}`,
              task: (_c, t) =>
                t.newListr(
                  s.hosts.map((h) => hostTask(s.id, h)),
                  { concurrent: true, exitOnError: false },
                ),
            }),
          ),
        ];
        const list = new Listr(tasks, {
          exitOnError: false,
          concurrent: false,
          rendererOptions: { collapseSubtasks: false, collapseErrors: false },
        });
        if (event.dryRun) out.write('dry run: nothing will change\n');
        if (event.logFile) out.write(`log: ${event.logFile}\n`);
        running = list.run().catch(() => undefined);
        break;
      }
      case 'connect':
        slot(key('connect', event.host)).resolve(
          event.ok
            ? { status: 'ok', text: `connected in ${formatDuration(event.durationMs)}` }
            : {
                status: 'failed',
                text: `${event.error?.message}${event.error?.hint ? ` — hint: ${event.error.hint}` : ''}`,
              },
        );
        break;
      case 'action':
        if (event.result.status === 'changed') {
          const k = key(event.step, event.host);
          notes.set(k, [notes.get(k), event.result.target].filter(Boolean).join(', '));
        }
        break;
      case 'host-end': {
        const k = key(event.step, event.host);
        const what = notes.get(k);
        const text =
          event.status === 'failed'
            ? `${event.error?.message}${event.error?.hint ? ` — hint: ${event.error.hint}` : ''}`
            : `${event.changed} changed${what ? ` (${what.length > 80 ? `${what.slice(0, 77)}...` : what})` : ''} in ${formatDuration(event.durationMs)}`;
        slot(k).resolve({ status: event.status, text });
        break;
      }
      case 'run-log':
        runLogs.push(event.message);
        break;
      case 'verify-report':
        reports.push(formatVerifyReport(event.report));
        break;
      case 'run-end':
        ended = true;
        for (const p of pending.values()) p.resolve({ status: 'skipped', text: 'not run' });
        closing = `\n${formatSummary(event.summary)}\n${event.ok ? 'done' : 'FAILED'} in ${formatDuration(event.durationMs)}\n`;
        break;
      default:
        break;
    }
  };
  return {
    sink,
    close: async () => {
      await running;
      if (runLogs.length) out.write(`\n${runLogs.map((l) => `deploy: ${l}`).join('\n')}\n`);
      for (const report of reports) out.write(`\n${report}\n`);
      out.write(closing);
    },
  };
}
