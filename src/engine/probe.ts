import { quote as quoteWord, sh } from '../transport/quote.js';
import { isUnitPath, listPendingShell, unitName } from './pending.js';
import type { Resource } from './resources.js';

/** What the probe saw of one resource: absent, sha256, meta (mode:owner:group), link, guard, unit properties, pending. */
export type Observed = Map<string, string>;

/**
 * Checksums of the large files kubesmith installed, by size and mtime: a warm run reads the
 * recorded sha256 instead of hashing hundreds of MB of binaries on every host.
 */
export const CHECKSUM_RECORD = '/var/lib/kubesmith/checksums';

export function isLargeFile(r: Resource): boolean {
  return r.kind === 'file' && typeof r.content === 'object' && !Buffer.isBuffer(r.content);
}

function recordShell(pathWord: string, shaWord: string): string {
  const tmp = `${CHECKSUM_RECORD}.tmp.$$`;
  return `mkdir -p /var/lib/kubesmith && { awk -v p=${pathWord} '$3!=p' ${CHECKSUM_RECORD} 2>/dev/null; echo ${shaWord} $(stat -c %s:%Y ${pathWord}) ${pathWord}; } > ${tmp} && mv -f ${tmp} ${CHECKSUM_RECORD}`;
}

/** Shell that replaces the record line of path with its current size:mtime and the given sha256. */
export function recordLine(path: string, sha256: string): string {
  return recordShell(quoteWord(path), quoteWord(sha256));
}

/**
 * Prints `sha path` for each large file: the recorded sha256 when size:mtime still match the
 * record, else a fresh hash (which is then recorded).
 */
function largeFilesScript(paths: string[]): string {
  const compare = [
    'BEGIN { while ((getline line < rec) > 0) { split(line, f, " "); known[f[3]] = f[1] " " f[2] } }',
    '{ split($1, t, "."); split(known[$2], k, " "); if (k[2] == t[1]) print "ok", $2, k[1]; else print "hash", $2 }',
  ].join('\n');
  return [
    sh`find ${paths} -maxdepth 0 -type f -printf '%s:%T@ %p\\n' 2>/dev/null | awk -v rec=${CHECKSUM_RECORD} ${compare} |`,
    'while read -r state path sha; do',
    '  if [ "$state" = hash ]; then sha=$(sha256sum < "$path" | cut -d " " -f 1);',
    `    ${recordShell('"$path"', '"$sha"')}; fi`,
    '  echo "$sha $path"',
    'done',
  ].join('\n');
}

/**
 * One remote command that reports the state of every resource with a handful of processes
 * (one find, one sha256sum, one systemctl) instead of several per resource.
 */
export function probeScript(resources: readonly Resource[]): string {
  const paths = resources.flatMap((r) =>
    r.kind === 'file' || r.kind === 'directory' || r.kind === 'symlink' ? [r.path] : [],
  );
  const small = resources.flatMap((r) => (r.kind === 'file' && !isLargeFile(r) ? [r.path] : []));
  const large = resources.flatMap((r) => (r.kind === 'file' && isLargeFile(r) ? [r.path] : []));
  const units = resources.flatMap((r) => (r.kind === 'service' ? [`${r.name}.service`] : []));
  const lines = ['echo @@paths'];
  if (paths.length)
    lines.push(sh`find ${paths} -maxdepth 0 -printf '%p\\t%y\\t%m:%u:%g\\t%l\\n' 2>/dev/null`);
  lines.push('echo @@sha');
  if (small.length) lines.push(sh`sha256sum ${small} 2>/dev/null`);
  if (large.length) lines.push(largeFilesScript(large));
  // Which decompressors the host has: binaries are sent compressed when it can unpack them.
  if (large.length)
    lines.push('echo @@tools', 'for t in gzip zstd; do command -v $t >/dev/null 2>&1 && echo $t; done');
  lines.push('echo @@units');
  if (units.length)
    lines.push(sh`systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState ${units} 2>/dev/null`);
  if (units.length || paths.some(isUnitPath)) lines.push('echo @@pending', listPendingShell());
  lines.push('echo @@guards');
  resources.forEach((r, i) => {
    if (r.kind !== 'command') return;
    const guards: string[] = [];
    if (r.creates) guards.push(sh`[ -e ${r.creates} ]`);
    // stdin from /dev/null: the script itself arrives on stdin (sh -s) and must not be read by a guard.
    if (r.unless) guards.push(sh`${r.unless} </dev/null >/dev/null 2>&1`);
    lines.push(
      guards.length
        ? `if ${guards.join(' || ')}; then echo ${i} done; else echo ${i} todo; fi`
        : `echo ${i} none`,
    );
  });
  lines.push('exit 0');
  return lines.join('\n');
}

interface PathState {
  type: string;
  meta: string;
  link: string;
}

interface ProbeSections {
  paths: Map<string, PathState>;
  sha: Map<string, string>;
  units: Map<string, Map<string, string>>;
  guards: Map<number, string>;
  pending: Set<string>;
  tools: Set<string>;
}

function sections(stdout: string): ProbeSections {
  const seen: ProbeSections = {
    paths: new Map(),
    sha: new Map(),
    units: new Map(),
    guards: new Map(),
    pending: new Set(),
    tools: new Set(),
  };
  let section = '';
  let unit = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith('@@')) {
      section = line.slice(2);
      continue;
    }
    if (section === 'paths') {
      const [path = '', type = '', meta = '', link = ''] = line.split('\t');
      if (path) seen.paths.set(path, { type, meta, link });
    } else if (section === 'sha') {
      const match = line.match(/^([0-9a-f]{64}) [ *]?(.+)$/);
      if (match) seen.sha.set(match[2]!, match[1]!);
    } else if (section === 'units') {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
      if (key === 'Id') {
        unit = new Map();
        seen.units.set(value, unit);
      } else unit.set(key, value);
    } else if (section === 'pending') {
      if (line.trim()) seen.pending.add(line.trim());
    } else if (section === 'tools') {
      if (line.trim()) seen.tools.add(line.trim());
    } else if (section === 'guards') {
      const [index, state] = line.split(' ');
      if (state) seen.guards.set(Number(index), state);
    }
  }
  return seen;
}

/** The pending-restart markers the probe found (see pending.ts). */
export function parsePending(stdout: string): Set<string> {
  return sections(stdout).pending;
}

/** The decompressors the probe found on the host (only asked when there are binaries to send). */
export function parseTools(stdout: string): Set<string> {
  return sections(stdout).tools;
}

export function parseProbe(stdout: string, resources: readonly Resource[]): Observed[] {
  const seen = sections(stdout);
  return resources.map((r, i) => {
    const observed: Observed = new Map();
    const at = 'path' in r ? seen.paths.get(r.path) : undefined;
    switch (r.kind) {
      case 'file':
        if (!at || (at.type !== 'f' && at.type !== 'l')) observed.set('absent', '');
        else {
          observed.set('meta', at.meta);
          observed.set('sha256', seen.sha.get(r.path) ?? '');
        }
        break;
      case 'directory':
        if (!at || (at.type !== 'd' && at.type !== 'l')) observed.set('absent', '');
        else observed.set('meta', at.meta);
        break;
      case 'symlink':
        if (at?.type === 'l') observed.set('link', at.link);
        else observed.set('absent', '');
        break;
      case 'service':
        for (const [key, value] of seen.units.get(`${r.name}.service`) ?? []) observed.set(key, value);
        if (seen.pending.has(unitName(r.name))) observed.set('pending', '');
        break;
      case 'command':
        observed.set('guard', seen.guards.get(i) ?? '');
        break;
    }
    return observed;
  });
}
