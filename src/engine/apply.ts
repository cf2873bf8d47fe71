import { posix } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { compressedArtifact, compressedDir } from '../artifacts/compress.js';
import { cacheDir } from '../home.js';
import { sh } from '../transport/quote.js';
import type { SshConnection } from '../transport/ssh.js';
import { markPendingShell } from './pending.js';
import {
  CHECKSUM_RECORD,
  isLargeFile,
  type Observed,
  parsePending,
  parseProbe,
  parseTools,
  probeScript,
  recordLine,
} from './probe.js';
import {
  type ActionResult,
  contentSha256,
  isSecretFile,
  modeText,
  type Resource,
  resourceTarget,
} from './resources.js';
import { guardRestarts, pendingMarkers, runServices } from './services.js';

export { serviceActions } from './services.js';

/** What a dry-run says of a secret file instead of a diff. */
export const SECRET_DIFFERS = 'content differs (secret)';

export interface PlannedChange {
  index: number;
  resource: Resource;
  detail: string;
}

function ownershipDiffers(
  meta: string | undefined,
  mode: number | undefined,
  owner: string | undefined,
  group: string | undefined,
  fallbackMode: number,
): boolean {
  const want = `${modeText(mode, fallbackMode)}:${owner ?? 'root'}:${group ?? owner ?? 'root'}`;
  return meta !== want;
}

/** Changes needed for resources whose wanted state does not depend on other changes. */
export function planStatic(resources: readonly Resource[], observed: Observed[]): PlannedChange[] {
  const changes: PlannedChange[] = [];
  resources.forEach((resource, index) => {
    const seen = observed[index] ?? new Map();
    const add = (detail: string) => changes.push({ index, resource, detail });
    switch (resource.kind) {
      case 'file':
        if (seen.has('absent')) add('create');
        else if (seen.get('sha256') !== contentSha256(resource.content))
          add(isSecretFile(resource) ? SECRET_DIFFERS : 'content differs');
        else if (ownershipDiffers(seen.get('meta'), resource.mode, resource.owner, resource.group, 0o644))
          add(`mode/owner ${seen.get('meta')}`);
        break;
      case 'directory':
        if (seen.has('absent')) add('create');
        else if (
          resource.mode !== undefined &&
          ownershipDiffers(seen.get('meta'), resource.mode, resource.owner, resource.group, 0o755)
        ) {
          add(`mode/owner ${seen.get('meta')}`);
        }
        break;
      case 'symlink':
        if (seen.get('link') !== resource.target)
          add(seen.has('absent') ? 'create' : `points to ${seen.get('link')}`);
        break;
    }
  });
  return changes;
}

/**
 * Shell that removes what an earlier run left half-done beside these files: staged copies
 * (`.<name>.kubesmith-<random>`, see SshConnection.stage and inlineInstall) of a run cut off
 * before it moved them into place (a lost connection, a reboot, a killed deploy process), and
 * the checksum record's temporary file. Runs before this apply stages anything of its own.
 */
export function leftoversShell(resources: readonly Resource[]): string | undefined {
  const files = resources.flatMap((r) => (r.kind === 'file' ? [r] : []));
  if (files.length === 0) return undefined;
  const staged = [
    ...new Set(files.map((r) => posix.join(posix.dirname(r.path), `.${posix.basename(r.path)}.kubesmith-`))),
  ];
  const patterns = staged.map((prefix) => sh`${prefix}*`);
  if (files.some(isLargeFile)) patterns.push(sh`${`${CHECKSUM_RECORD}.tmp.`}*`);
  return `rm -f ${patterns.join(' ')}`;
}

export interface ApplyOptions {
  dryRun: boolean;
  signal?: AbortSignal;
  /** Where compressed copies of binaries are cached (default: the download cache's compressed/). */
  compressedDir?: string;
}

async function fileDiff(
  conn: SshConnection,
  path: string,
  content: string | Buffer,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const text = content.toString();
  if (text.includes('\0')) return undefined;
  const current = await conn.exec(['cat', path], { signal });
  return createTwoFilesPatch(
    path,
    path,
    current.exitCode === 0 ? current.stdout : '',
    text,
    'current',
    'wanted',
  );
}

/**
 * Brings a host to the wanted state with few round trips: one probe; then, only when
 * something differs, one command for directories, a stream per changed binary, one script
 * that installs every changed file and link (small files inside it), each due guarded
 * command, one systemctl batch.
 */
export async function applyResources(
  conn: SshConnection,
  resources: readonly Resource[],
  options: ApplyOptions,
): Promise<ActionResult[]> {
  if (resources.length === 0) return [];
  const { signal } = options;
  const started = performance.now();
  const probe = await conn.run(['sh', '-s'], { stdin: probeScript(resources), signal });
  const observed = parseProbe(probe.stdout, resources);
  const pending = parsePending(probe.stdout);
  const probeMs = Math.round(performance.now() - started);
  const results: ActionResult[] = resources.map((r) => ({
    kind: r.kind,
    target: resourceTarget(r),
    status: 'ok',
    durationMs: probeMs,
  }));
  const changes = planStatic(resources, observed);
  const changedPaths = new Set<string>();
  for (const change of changes) {
    const result = results[change.index]!;
    result.status = 'changed';
    result.detail = change.detail;
    changedPaths.add(resourceTarget(change.resource));
  }

  const services = {
    resources,
    observed,
    pending,
    changedPaths,
    guarded: new Set<number>(),
    dryRun: options.dryRun,
  };
  if (options.dryRun) {
    for (const change of changes) {
      const r = change.resource;
      if (
        r.kind === 'file' &&
        !isSecretFile(r) &&
        (typeof r.content === 'string' || Buffer.isBuffer(r.content)) &&
        change.detail !== 'create'
      ) {
        results[change.index]!.diff = await fileDiff(conn, r.path, r.content, signal);
      }
    }
  } else {
    // A restart that must not happen now (e.g. other members unhealthy) refuses before any change.
    await guardRestarts(services);
    const timed = performance.now();
    const prepare = changes.flatMap(({ resource: r }) => {
      if (r.kind === 'directory' && r.mode === undefined) return [sh`mkdir -p ${r.path}`];
      if (r.kind === 'directory') {
        const owner = `${r.owner ?? 'root'}:${r.group ?? r.owner ?? 'root'}`;
        return [
          sh`mkdir -p ${r.path} && chmod ${modeText(r.mode, 0o755)} ${r.path} && chown ${owner} ${r.path} || exit 1`,
        ];
      }
      if (r.kind === 'file') return [sh`mkdir -p $(dirname ${r.path})`];
      return [];
    });
    // Staged files of an earlier run cut off before its install: removed whenever files change
    // (such a run always leaves its files to change), before anything new is staged.
    const leftovers = changes.some((c) => c.resource.kind === 'file') ? leftoversShell(resources) : undefined;
    if (leftovers) prepare.push(leftovers);
    if (prepare.length) await conn.run(['sh', '-c', ['set -e', ...prepare].join('\n')], { signal });
    const installs = changes.flatMap(({ resource: r }) =>
      r.kind === 'symlink'
        ? [sh`mkdir -p $(dirname ${r.path}) && ln -sfn ${r.target} ${r.path} || exit 1`]
        : [],
    );
    const gzip = parseTools(probe.stdout).has('gzip');
    const packDir = gzip ? (options.compressedDir ?? compressedDir(cacheDir())) : undefined;
    installs.push(...(await stageFiles(conn, changes, packDir, signal)));
    if (installs.length) {
      // Restarts owed are recorded before any file moves, and cleared once done (pending.ts).
      const markers = pendingMarkers(services);
      const script = ['set -e', ...(markers.length ? [markPendingShell(markers)] : []), ...installs];
      await conn.run(['sh', '-s'], { stdin: script.join('\n'), signal });
    }
    const elapsed = Math.round(performance.now() - timed);
    for (const change of changes) results[change.index]!.durationMs += elapsed;
  }

  await runCommands({ conn, resources, observed, changedPaths, results, options });
  await runServices({ ...services, conn, results, signal });
  return results;
}

const PARALLEL_UPLOADS = 4;

/**
 * Streams the changed large files (a few at a time; gzipped when packDir is given, i.e. the host
 * has gzip) and returns the shell that installs every changed file: small ones travel inside that
 * script, base64-encoded, so they cost no round trip.
 */
async function stageFiles(
  conn: SshConnection,
  changes: readonly PlannedChange[],
  packDir: string | undefined,
  signal?: AbortSignal,
): Promise<string[]> {
  const files = changes.flatMap(({ resource: r }) => (r.kind === 'file' ? [r] : []));
  const large = files.filter(isLargeFile);
  const staged = new Map<string, string>();
  for (let next = 0; next < large.length; next += PARALLEL_UPLOADS) {
    await Promise.all(
      large.slice(next, next + PARALLEL_UPLOADS).map(async (r) => {
        const { localPath, sha256 } = r.content as { localPath: string; sha256: string };
        const packed = packDir ? await packedCopy(localPath, sha256, packDir) : undefined;
        const source = packed ? { gzipPath: packed.path, contentSha256: sha256 } : { localPath };
        staged.set(r.path, await conn.stage(source, r.path, signal));
      }),
    );
  }
  return files.map((r) => {
    const stagedPath = staged.get(r.path);
    if (stagedPath !== undefined)
      return `${conn.installCommand(stagedPath, r.path, r)}\n${recordLine(r.path, contentSha256(r.content))}`;
    return conn.inlineInstall(Buffer.from(r.content as string | Buffer), r.path, r);
  });
}

/**
 * The cached gzip of a binary, or undefined to send it as it is: when it does not compress well,
 * or the cache cannot be written (full disk, read-only home); the host checks the result either way.
 */
async function packedCopy(localPath: string, sha256: string, dir: string) {
  return compressedArtifact(localPath, sha256, dir).catch(() => undefined);
}

/** One apply in progress: what was asked, what the probe saw, what changed so far. */
interface Applying {
  conn: SshConnection;
  resources: readonly Resource[];
  observed: Observed[];
  changedPaths: Set<string>;
  results: ActionResult[];
  options: ApplyOptions;
}

async function runCommands({
  conn,
  resources,
  observed,
  changedPaths,
  results,
  options,
}: Applying): Promise<void> {
  for (const [index, r] of resources.entries()) {
    if (r.kind !== 'command') continue;
    const guard = observed[index]?.get('guard');
    const triggered = r.onChangeOf?.some((p) => changedPaths.has(p)) ?? false;
    const due = guard === 'todo' || (r.onChangeOf ? triggered : guard === 'none');
    const result = results[index]!;
    if (!due) {
      result.status = guard === 'done' || r.onChangeOf ? 'ok' : 'skipped';
      continue;
    }
    result.status = 'changed';
    result.detail = triggered ? 'an input changed' : 'guard says not done';
    if (options.dryRun) continue;
    const t = performance.now();
    await conn.run(r.argv, { signal: options.signal, hint: r.hint });
    result.durationMs += Math.round(performance.now() - t);
    changedPaths.add(r.title);
  }
}
