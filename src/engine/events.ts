import { StepFailedError } from '../errors.js';
import type { VerifyReport } from '../verify/report.js';
import type { ActionResult } from './resources.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface ErrorInfo {
  message: string;
  hint?: string;
  stderrTail?: string;
}

export interface PlannedStep {
  id: string;
  title: string;
  hosts: string[];
}

/** Everything a run reports. Renderers (TTY, plain, JSON) and the run log consume these; the engine never prints. */
export type RunEvent =
  | {
      type: 'run-start';
      command: string;
      cluster: string;
      dryRun: boolean;
      steps: PlannedStep[];
      logFile?: string;
    }
  | { type: 'connect'; host: string; ok: boolean; error?: ErrorInfo; durationMs: number }
  | { type: 'step-start'; step: string; title: string; hosts: string[] }
  | { type: 'host-start'; step: string; host: string }
  | { type: 'action'; step: string; host: string; result: ActionResult }
  | { type: 'host-log'; step: string; host: string; message: string }
  | { type: 'run-log'; message: string }
  | {
      type: 'host-end';
      step: string;
      host: string;
      status: HostStatus;
      changed: number;
      durationMs: number;
      error?: ErrorInfo;
    }
  | { type: 'step-end'; step: string; durationMs: number }
  | { type: 'verify-report'; step: string; report: VerifyReport }
  | { type: 'run-end'; ok: boolean; durationMs: number; summary: RunSummary };

export interface HostSummary {
  host: string;
  status: HostStatus;
  changed: number;
  failedStep?: string;
  error?: ErrorInfo;
  commands: number;
  bytesUploaded: number;
}

export interface RunSummary {
  hosts: HostSummary[];
  changed: number;
  failed: number;
  interrupted: boolean;
}

export type EventSink = (event: RunEvent) => void;

/** The hosts that failed a run, as the error the CLI turns into exit 1. */
export function hostsFailed(summary: RunSummary): StepFailedError {
  return new StepFailedError(
    summary.hosts
      .filter((h) => h.status === 'failed')
      .map((h) => ({
        host: h.host,
        step: h.failedStep ?? '?',
        error: new Error(h.error?.message ?? 'failed'),
      })),
  );
}
