import { access, constants, readFile, stat } from 'node:fs/promises';
import { type Document, isMap, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { InputError, type Problem } from '../errors.js';
import { resolveLocalPath } from '../home.js';
import { crossFieldProblems, type RuleOptions } from './rules.js';
import { type Inventory, inventorySchema } from './schema.js';

export interface LoadedInventory {
  file: string;
  inventory: Inventory;
  /** The parsed YAML before defaults: tells what the user wrote explicitly. */
  raw: Record<string, unknown>;
}

type Path = (string | number)[];

function lineOf(doc: Document, lines: LineCounter, path: Path, key?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as Node | undefined;
    if (!node?.range) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return lines.linePos(keyNode.range[0]).line;
    }
    return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length]!;
  };
  const best = candidates
    .map((c) => ({ c, d: distance(word.toLowerCase(), c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.c : undefined;
}

function knownKeys(schema: z.ZodType, path: Path): string[] {
  let current: unknown = schema;
  for (const part of path) {
    current = unwrap(current);
    const def = (current as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } })
      .def;
    if (def?.type === 'object' && typeof part === 'string') current = def.shape?.[part];
    else if (def?.type === 'array') current = def.element;
    else return [];
  }
  const def = (unwrap(current) as { def?: { shape?: Record<string, unknown> } }).def;
  return Object.keys(def?.shape ?? {});
}

function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (
    current?.def?.innerType &&
    ['default', 'prefault', 'optional', 'nullable'].includes(current.def.type ?? '')
  ) {
    current = current.def.innerType as typeof current;
  }
  return current;
}

function schemaProblems(error: z.ZodError, doc: Document, lines: LineCounter, file: string): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    const path = issue.path as Path;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const guess = closest(key, knownKeys(inventorySchema, path));
        return {
          file,
          line: lineOf(doc, lines, path, key),
          path: [...path, key].join('.'),
          message: `unknown key${guess ? `; did you mean '${guess}'?` : ''}`,
        };
      });
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && issue.input === undefined) message = 'is required';
    if (issue.code === 'invalid_key') message = `key ${issue.issues[0]?.message ?? 'is invalid'}`;
    return [{ file, line: lineOf(doc, lines, path), path: path.join('.'), message }];
  });
}

/** Drops values that failed the schema (defaults take their place) so cross-field rules can still run. */
function withoutInvalid(raw: unknown, error: z.ZodError): { repaired: unknown; touched: string[] } {
  const repaired = structuredClone(raw) as Record<string, unknown>;
  const touched: string[] = [];
  const badHosts = new Set<number>();
  for (const issue of error.issues) {
    const path = issue.path as Path;
    if (path[0] === 'hosts' && typeof path[1] === 'number') {
      badHosts.add(path[1]);
      continue;
    }
    if (issue.code === 'unrecognized_keys') continue;
    let parent: unknown = repaired;
    for (const part of path.slice(0, -1))
      parent = (parent as Record<string | number, unknown> | undefined)?.[part];
    const last = path[path.length - 1];
    if (parent && typeof parent === 'object' && last !== undefined) {
      delete (parent as Record<string | number, unknown>)[last];
      touched.push(path.join('.'));
    }
  }
  for (const issue of error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    let target: unknown = repaired;
    for (const part of issue.path as Path)
      target = (target as Record<string | number, unknown> | undefined)?.[part];
    for (const key of issue.keys)
      if (target && typeof target === 'object') delete (target as Record<string, unknown>)[key];
  }
  if (Array.isArray(repaired.hosts)) {
    repaired.hosts = repaired.hosts.map((h, i) => (badHosts.has(i) ? undefined : h));
    touched.push(...[...badHosts].map((i) => `hosts.${i}`));
  }
  return { repaired, touched };
}

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function localFileProblems(
  inv: Inventory,
  raw: Record<string, unknown>,
  file: string,
  doc: Document,
  lines: LineCounter,
): Promise<Problem[]> {
  const out: Problem[] = [];
  const explicitIdentity = (raw.ssh as Record<string, unknown> | undefined)?.identityFile !== undefined;
  const files: [Path, string | undefined, boolean][] = [
    [['ssh', 'identityFile'], inv.ssh.identityFile, explicitIdentity || !process.env.SSH_AUTH_SOCK],
    [['ssh', 'bastion', 'identityFile'], inv.ssh.bastion?.identityFile, true],
    ...inv.hosts.map((h, i): [Path, string | undefined, boolean] => [
      ['hosts', i, 'ssh', 'identityFile'],
      h.ssh?.identityFile,
      true,
    ]),
  ];
  for (const [path, value, required] of files) {
    if (!value || !required) continue;
    const resolved = resolveLocalPath(value, file);
    if (!(await readable(resolved))) {
      out.push({
        file,
        line: lineOf(doc, lines, path),
        path: path.join('.'),
        message: `${resolved} does not exist or is not readable; create the key (ssh-keygen -t ed25519) or point this at an existing one`,
      });
    }
  }
  if (inv.artifacts.source === 'dir' && inv.artifacts.dir) {
    const dir = resolveLocalPath(inv.artifacts.dir, file);
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir)
      out.push({
        file,
        line: lineOf(doc, lines, ['artifacts', 'dir']),
        path: 'artifacts.dir',
        message: `${dir} is not a directory; build a bundle (kubesmith lab bundle, or kubesmith download --bundle) or fix the path`,
      });
  }
  return out;
}

export async function parseInventory(
  text: string,
  file: string,
  options: RuleOptions = {},
): Promise<LoadedInventory> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      file,
      line: e.linePos?.[0]?.line,
      path: '(yaml)',
      message: e.message.split('\n')[0] ?? e.message,
    }));
    throw new InputError(`${file}: not valid YAML`, problems);
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(`${file}: not an inventory`, [
      { file, line: 1, path: '(root)', message: 'must be a mapping with cluster, hosts, ...' },
    ]);
  }
  const parsed = inventorySchema.safeParse(raw);
  const problems: Problem[] = [];
  let inventory: Inventory | undefined;
  let touched: string[] = [];
  if (parsed.success) inventory = parsed.data;
  else {
    problems.push(...schemaProblems(parsed.error, doc, lines, file));
    const repair = withoutInvalid(raw, parsed.error);
    touched = repair.touched;
    const retry = inventorySchema.safeParse({
      ...(repair.repaired as object),
      hosts: ((repair.repaired as { hosts?: unknown[] }).hosts ?? []).filter(Boolean),
    });
    if (retry.success) inventory = retry.data;
  }
  if (inventory) {
    const hostIndex = Array.isArray(raw.hosts)
      ? raw.hosts.map((_, i) => i).filter((i) => !touched.includes(`hosts.${i}`))
      : [];
    for (const p of crossFieldProblems(inventory, options)) {
      const path = [...p.pathParts];
      if (path[0] === 'hosts' && typeof path[1] === 'number') path[1] = hostIndex[path[1]] ?? path[1];
      const dotted = path.join('.');
      const stale = (t: string) => dotted.startsWith(t) || p.message.includes(t.split('.').pop() ?? t);
      if (touched.some(stale)) continue;
      problems.push({ file, line: lineOf(doc, lines, path), path: dotted, message: p.message });
    }
    if (parsed.success) problems.push(...(await localFileProblems(inventory, raw, file, doc, lines)));
  }
  if (problems.length > 0 || !inventory || !parsed.success) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new InputError(`${file}: ${problems.length} problem(s) in the inventory`, problems);
  }
  return { file, inventory, raw };
}

export async function loadInventory(file: string, options: RuleOptions = {}): Promise<LoadedInventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InputError(
      `${file}: cannot read the inventory (${(cause as NodeJS.ErrnoException).code ?? cause}); create one with 'kubesmith new <cluster>' or pass -i FILE`,
      [],
      { cause },
    );
  }
  return parseInventory(text, file, options);
}
