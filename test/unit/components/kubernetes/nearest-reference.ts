import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REFERENCE, readTable } from '../reference.js';

/** A reference file of the Kubernetes version nearest the wanted minor, and which version that is. */
export interface HeldReference {
  version: string;
  rows: string[][];
  /** For messages: "kube-apiserver.flags of 1.37 (nearest held to 1.34)". */
  label: string;
}

const minorNumber = (version: string) => Number(version.split('.')[1]);

/**
 * ../shared/reference/k8s/<minor>/<file> for the wanted minor, or the nearest minor that holds the
 * file; on a tie the newer one (it knows the deprecations the older one has not made yet).
 */
export function nearestReference(file: string, minor: string): HeldReference {
  const held = readdirSync(join(REFERENCE, 'k8s'))
    .filter((v) => /^1\.\d+$/.test(v) && existsSync(join(REFERENCE, 'k8s', v, file)))
    .sort((a, b) => minorNumber(a) - minorNumber(b));
  if (held.length === 0) throw new Error(`no k8s/<minor>/${file} in ${REFERENCE}`);
  const want = minorNumber(minor);
  const version = held.reduce((best, v) =>
    Math.abs(minorNumber(v) - want) <= Math.abs(minorNumber(best) - want) ? v : best,
  );
  const exact = version === minor ? '' : ` (nearest held to ${minor})`;
  return { version, rows: readTable(join('k8s', version, file)), label: `${file} of ${version}${exact}` };
}

/** Paths the config-field-status.tsv beside a fields file marks deprecated. */
export function deprecatedFields(held: HeldReference, file: string): Set<string> {
  const status = join('k8s', held.version, 'config-field-status.tsv');
  if (!existsSync(join(REFERENCE, status))) return new Set();
  return new Set(
    readTable(status)
      .filter(([f, , s]) => f === file && s === 'deprecated')
      .map(([, path = '']) => path),
  );
}
