import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** ../shared/reference beside the project: upstream flag and config-key lists, read in place. */
export const REFERENCE = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'reference');
export const referenceMissing = existsSync(REFERENCE) ? undefined : `no reference data at ${REFERENCE}`;

export function readTable(path: string): string[][] {
  return readFileSync(join(REFERENCE, path), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'));
}
