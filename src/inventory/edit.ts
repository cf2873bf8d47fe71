import { copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Takes a role away from hosts in the inventory file, keeping comments and layout; a host left
 * without roles is removed. The previous file is kept beside it; returns that copy's path.
 */
export async function removeRole(
  file: string,
  hosts: readonly string[],
  role: string,
  stamp: string,
): Promise<string> {
  const text = await readFile(file, 'utf8');
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
  const backup = `${file}.before-${stamp}`;
  await copyFile(file, backup);
  await writeFile(`${file}.tmp`, doc.toString(), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return backup;
}
