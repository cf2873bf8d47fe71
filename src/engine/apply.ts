import { createTwoFilesPatch } from 'diff';
import { quote as quoteWord, sh } from '../transport/quote.js';
import type { SshConnection } from '../transport/ssh.js';
import {
  type ActionResult,
  contentSha256,
  modeText,
  type Resource,
  resourceTarget,
  type ServiceResource,
} from './resources.js';

/** What one probe line said about resource i: `i key value...`. */
type Observed = Map<string, string>;

const SYSTEMD_DIRS = ['/etc/systemd/', '/lib/systemd/', '/usr/lib/systemd/'];

/**
 * Checksums of the large files kubesmith installed, by size and mtime: a warm run reads the
 * recorded sha256 instead of hashing hundreds of MB of binaries on every host.
 */
export const CHECKSUM_RECORD = '/var/lib/kubesmith/checksums';

function isLargeFile(r: Resource): boolean {
  return r.kind === 'file' && typeof r.content === 'object' && !Buffer.isBuffer(r.content);
}

/** Prints the recorded sha256 when size:mtime still match the record, else hashes and records it. */
function largeFileProbe(path: string, i: number): string {
  return [
    sh`if [ -f ${path} ]; then m=$(stat -c %s:%Y ${path});`,
    sh`r=$(awk -v m="$m" -v p=${path} '$2==m && $3==p {print $1; exit}' ${CHECKSUM_RECORD} 2>/dev/null);`,
    sh`if [ -z "$r" ]; then r=$(sha256sum < ${path}); r=\${r%% *};`,
    `${recordLine(path, '"$r"')}; fi;`,
    sh`echo ${i} sha256 "$r"; echo ${i} meta $(stat -c '%a:%U:%G' ${path}); else echo ${i} absent; fi`,
  ].join(' ');
}

/** Shell that replaces the record line of path with its current size:mtime and the given sha256 (a shell word). */
function recordLine(path: string, shaWord: string): string {
  const p = quoteWord(path);
  const tmp = `${CHECKSUM_RECORD}.tmp.$$`;
  return `mkdir -p /var/lib/kubesmith && { awk -v p=${p} '$3!=p' ${CHECKSUM_RECORD} 2>/dev/null; echo ${shaWord} $(stat -c %s:%Y ${p}) ${p}; } > ${tmp} && mv -f ${tmp} ${CHECKSUM_RECORD}`;
}

function probeLine(r: Resource, i: number): string {
  switch (r.kind) {
    case 'file':
      if (isLargeFile(r)) return largeFileProbe(r.path, i);
      return sh`if [ -f ${r.path} ]; then echo ${i} sha256 $(sha256sum < ${r.path}); echo ${i} meta $(stat -c '%a:%U:%G' ${r.path}); else echo ${i} absent; fi`;
    case 'directory':
      return sh`if [ -d ${r.path} ]; then echo ${i} meta $(stat -c '%a:%U:%G' ${r.path}); else echo ${i} absent; fi`;
    case 'symlink':
      return sh`if [ -L ${r.path} ]; then echo ${i} link "$(readlink ${r.path})"; else echo ${i} absent; fi`;
    case 'service':
      return sh`systemctl show -p LoadState -p ActiveState -p UnitFileState ${`${r.name}.service`} 2>/dev/null | sed ${`s/^/${i} prop /`}`;
    case 'command': {
      const guards: string[] = [];
      if (r.creates) guards.push(sh`[ -e ${r.creates} ]`);
      if (r.unless) guards.push(sh`${r.unless} >/dev/null 2>&1`);
      return guards.length
        ? `if ${guards.join(' || ')}; then echo ${i} guard done; else echo ${i} guard todo; fi`
        : `echo ${i} guard none`;
    }
  }
}

/** One remote command that reports the current state of every resource. */
export function probeScript(resources: readonly Resource[]): string {
  return resources.map(probeLine).join('\n');
}

export function parseProbe(stdout: string, count: number): Observed[] {
  const observed = Array.from({ length: count }, () => new Map<string, string>());
  for (const line of stdout.split('\n')) {
    const match = line.match(/^(\d+) (\S+)(?: (.*))?$/);
    if (!match) continue;
    const [, index, key = '', rest = ''] = match;
    const map = observed[Number(index)];
    if (!map) continue;
    if (key === 'prop') {
      const eq = rest.indexOf('=');
      map.set(rest.slice(0, eq), rest.slice(eq + 1));
    } else map.set(key, key === 'sha256' ? (rest.split(' ')[0] ?? '') : rest);
  }
  return observed;
}

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
        else if (seen.get('sha256') !== contentSha256(resource.content)) add('content differs');
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

export function serviceActions(
  service: ServiceResource,
  seen: Observed,
  changedPaths: Set<string>,
): string[] {
  const actions: string[] = [];
  const unitFileState = seen.get('UnitFileState') ?? '';
  const active = seen.get('ActiveState') === 'active';
  if (service.enabled !== undefined) {
    const isEnabled = unitFileState === 'enabled' || unitFileState === 'static';
    if (service.enabled && !isEnabled) actions.push('enable');
    if (!service.enabled && unitFileState === 'enabled') actions.push('disable');
  }
  if (service.state === 'started') {
    if (!active) actions.push('start');
    else if (service.restartOn?.some((p) => changedPaths.has(p))) actions.push('restart');
  } else if (active) actions.push('stop');
  return actions;
}

export interface ApplyOptions {
  dryRun: boolean;
  signal?: AbortSignal;
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
 * something differs, one command for directories and links, SFTP for changed files and
 * one command to move them into place, each guarded command, one systemctl batch.
 */
export async function applyResources(
  conn: SshConnection,
  resources: readonly Resource[],
  options: ApplyOptions,
): Promise<ActionResult[]> {
  if (resources.length === 0) return [];
  const { signal } = options;
  const started = performance.now();
  const probe = await conn.run(['sh', '-c', probeScript(resources)], { signal });
  const observed = parseProbe(probe.stdout, resources.length);
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

  if (options.dryRun) {
    for (const change of changes) {
      const r = change.resource;
      if (
        r.kind === 'file' &&
        (typeof r.content === 'string' || Buffer.isBuffer(r.content)) &&
        change.detail !== 'create'
      ) {
        results[change.index]!.diff = await fileDiff(conn, r.path, r.content, signal);
      }
    }
  } else {
    const timed = performance.now();
    const prepare = changes.flatMap(({ resource: r }) => {
      if (r.kind === 'directory' && r.mode === undefined) return [sh`mkdir -p ${r.path}`];
      if (r.kind === 'directory') {
        const owner = `${r.owner ?? 'root'}:${r.group ?? r.owner ?? 'root'}`;
        return [
          sh`mkdir -p ${r.path} && chmod ${modeText(r.mode, 0o755)} ${r.path} && chown ${owner} ${r.path}`,
        ];
      }
      if (r.kind === 'file') return [sh`mkdir -p $(dirname ${r.path})`];
      return [];
    });
    if (prepare.length) await conn.run(['sh', '-c', ['set -e', ...prepare].join('\n')], { signal });
    const installs: string[] = [];
    for (const { resource: r } of changes) {
      if (r.kind === 'symlink')
        installs.push(sh`mkdir -p $(dirname ${r.path}) && ln -sfn ${r.target} ${r.path}`);
      if (r.kind !== 'file') continue;
      const source =
        typeof r.content === 'string'
          ? Buffer.from(r.content)
          : Buffer.isBuffer(r.content)
            ? r.content
            : { localPath: r.content.localPath };
      const staged = await conn.stage(source, r.path);
      installs.push(conn.installCommand(staged, r.path, r));
      if (isLargeFile(r)) installs.push(recordLine(r.path, contentSha256(r.content)));
    }
    if (installs.length) await conn.run(['sh', '-c', ['set -e', ...installs].join('\n')], { signal });
    const elapsed = Math.round(performance.now() - timed);
    for (const change of changes) results[change.index]!.durationMs += elapsed;
  }

  const applying: Applying = { conn, resources, observed, changedPaths, results, options };
  await runCommands(applying);
  await runServices(applying);
  return results;
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

async function runServices({
  conn,
  resources,
  observed,
  changedPaths,
  results,
  options,
}: Applying): Promise<void> {
  const lines: string[] = [];
  const touched: number[] = [];
  for (const [index, r] of resources.entries()) {
    if (r.kind !== 'service') continue;
    const actions = serviceActions(r, observed[index] ?? new Map(), changedPaths);
    if (actions.length === 0) continue;
    touched.push(index);
    results[index]!.status = 'changed';
    results[index]!.detail = actions.join(', ');
    const unit = `${r.name}.service`;
    for (const action of actions) {
      const noBlock = r.noBlock && (action === 'start' || action === 'restart') ? ['--no-block'] : [];
      lines.push(sh`systemctl ${[action, ...noBlock]} ${unit}`);
    }
  }
  const unitsChanged = [...changedPaths].some((p) => SYSTEMD_DIRS.some((d) => p.startsWith(d)));
  if ((lines.length === 0 && !unitsChanged) || options.dryRun) return;
  const t = performance.now();
  await conn.run(
    ['sh', '-c', ['set -e', ...(unitsChanged ? ['systemctl daemon-reload'] : []), ...lines].join('\n')],
    { signal: options.signal },
  );
  const elapsed = Math.round(performance.now() - t);
  for (const index of touched) results[index]!.durationMs += elapsed;
}
