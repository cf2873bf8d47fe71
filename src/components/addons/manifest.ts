import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../kube/types.js';
import { PACKAGE_ROOT } from '../../package-root.js';
import { parseManifest } from '../network/manifest.js';

const ADDON_DIR = join(PACKAGE_ROOT, 'templates', 'addons');
const parsed = new Map<string, KubeObject[]>();

/** The objects of templates/addons/<file> (an upstream manifest), a fresh copy for the caller to patch. */
export function addonManifest(file: string): KubeObject[] {
  let objects = parsed.get(file);
  if (!objects) {
    objects = parseManifest(readFileSync(join(ADDON_DIR, file), 'utf8'), file);
    parsed.set(file, objects);
  }
  return structuredClone(objects);
}

export type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `path` below `root`, to patch in place; missing objects on the way are created when `create` says so. */
export function fieldsAt(root: Fields, path: readonly string[], create = false): Fields {
  let current = root;
  for (const [index, key] of path.entries()) {
    if (create && current[key] === undefined) current[key] = {};
    const next = current[key];
    if (!isFields(next)) throw new Error(`${path.slice(0, index + 1).join('.')} is not an object`);
    current = next;
  }
  return current;
}

/** The pod spec of a Deployment's or DaemonSet's template. */
export function podSpec(workload: KubeObject): Fields {
  return fieldsAt(workload, ['spec', 'template', 'spec']);
}

/** The array at `key` of `fields` (an empty one put there when absent), to add to in place. */
export function listAt(fields: Fields, key: string): unknown[] {
  if (fields[key] === undefined) fields[key] = [];
  const list = fields[key];
  if (!Array.isArray(list)) throw new Error(`${key} is not a list`);
  return list;
}

/** `text` (an upstream string) with every `placeholder` in it replaced; an error when it holds none. */
export function filled(text: unknown, placeholder: string, value: string, where: string): string {
  if (typeof text !== 'string' || !text.includes(placeholder))
    throw new Error(`${where} has no ${placeholder} to fill`);
  return text.replaceAll(placeholder, value);
}
