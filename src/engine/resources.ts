import { createHash } from 'node:crypto';
import type { Argv } from '../transport/quote.js';

/** What a step wants a host to look like. The engine probes, compares, and changes only what differs. */
export type Resource = FileResource | DirectoryResource | SymlinkResource | CommandResource | ServiceResource;

interface Ownership {
  mode?: number;
  owner?: string;
  group?: string;
}

export interface FileResource extends Ownership {
  kind: 'file';
  path: string;
  /** Rendered content, or a local file (large binaries) with its known sha256. */
  content: string | Buffer | { localPath: string; sha256: string };
  /** Never shown in a diff (keys, tokens). Implied by a mode that others and the group cannot read. */
  secret?: boolean;
}

/** Without a mode, only existence is managed (mode and owner of an existing directory are left alone). */
export interface DirectoryResource extends Ownership {
  kind: 'directory';
  path: string;
}

export interface SymlinkResource {
  kind: 'symlink';
  path: string;
  target: string;
}

export interface CommandResource {
  kind: 'command';
  /** Names the command in reports, e.g. 'sysctl --system'. */
  title: string;
  argv: Argv;
  /** Skip when this path exists. */
  creates?: string;
  /** Skip when this command exits 0. */
  unless?: Argv;
  /** Run only when one of these managed paths changed in this apply (and whenever a guard says so). */
  onChangeOf?: string[];
  /** What to tell the user when it fails. */
  hint?: string;
}

export interface ServiceResource {
  kind: 'service';
  name: string;
  enabled?: boolean;
  state: 'started' | 'stopped';
  /** Restart when one of these managed paths changed in this apply. */
  restartOn?: string[];
  /** Reload (the service keeps serving meanwhile) when one of these changed and nothing asks a restart. */
  reloadOn?: string[];
  /** Start without waiting for readiness (members of a cluster that must come up together). */
  noBlock?: boolean;
  /**
   * Called before this service is restarted (not started, not in dry-run) and before any file
   * changes; throws to refuse, e.g. when other members are not healthy. Nothing changes then.
   */
  beforeRestart?: () => Promise<void>;
}

export type ActionStatus = 'ok' | 'changed' | 'skipped' | 'failed';

export interface ActionResult {
  kind: Resource['kind'];
  target: string;
  status: ActionStatus;
  durationMs: number;
  /** Why it changed (or would change), for humans. */
  detail?: string;
  /** Unified diff of a file, in dry-run. */
  diff?: string;
}

export function resourceTarget(resource: Resource): string {
  switch (resource.kind) {
    case 'command':
      return resource.title;
    case 'service':
      return resource.name;
    default:
      return resource.path;
  }
}

export function contentSha256(content: FileResource['content']): string {
  if (typeof content === 'object' && !Buffer.isBuffer(content)) return content.sha256;
  return createHash('sha256').update(content).digest('hex');
}

/** Whether a file's content must never be shown: marked secret, or unreadable by group and others (0600, 0400). */
export function isSecretFile(file: FileResource): boolean {
  return file.secret === true || ((file.mode ?? 0o644) & 0o044) === 0;
}

export function modeText(mode: number | undefined, fallback: number): string {
  return (mode ?? fallback).toString(8);
}
