import { copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Takes a role away from hosts in an inventory's text, keeping comments and layout; a host left
 * without roles is removed.
 */
export function withoutRole(
  text: string,
  hosts: readonly string[],
  role: string,
  file = 'inventory',
): string {
  const doc = parseDocument(text);
  const list = doc.get('hosts', true);
  if (!isSeq(list)) throw new Error(`${file}: hosts is not a list`);
  const seq = list as YAMLSeq;
  for (let i = seq.items.length - 1; i >= 0; i--) {
    const item = seq.items[i];
    if (!isMap(item) || !hosts.includes(String((item as YAMLMap).get('name')))) continue;
    const roles = (item as YAMLMap).get('roles', true);
    if (!isSeq(roles)) continue;
    const kept = (roles as YAMLSeq).items.filter(
      (r) => String((r as { value?: unknown }).value ?? r) !== role,
    );
    if (kept.length === 0) seq.items.splice(i, 1);
    else (roles as YAMLSeq).items = kept;
  }
  return doc.toString();
}

/**
 * Writes the inventory file with a role taken away from hosts (see withoutRole). The previous
 * file is kept beside it; returns that copy's path.
 */
export async function removeRole(
  file: string,
  hosts: readonly string[],
  role: string,
  stamp: string,
): Promise<string> {
  return replaceInventory(file, withoutRole(await readFile(file, 'utf8'), hosts, role, file), stamp);
}

/** Writes a new inventory text atomically, keeping the previous file beside it; returns that copy's path. */
export async function replaceInventory(file: string, text: string, stamp: string): Promise<string> {
  const backup = `${file}.before-${stamp}`;
  await copyFile(file, backup);
  await writeFile(`${file}.tmp`, text, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return backup;
}
