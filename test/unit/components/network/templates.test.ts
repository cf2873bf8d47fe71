import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../../src/package-root.js';
import { skipWithout } from '../../../helpers/prerequisite.js';
import { REFERENCE, referenceMissing } from '../reference.js';

const TEMPLATES = join(PACKAGE_ROOT, 'templates', 'network');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The README's table: file name → sha256. */
function readmeHashes(): Map<string, string> {
  const rows = readFileSync(join(TEMPLATES, 'README.md'), 'utf8').matchAll(
    /^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/gm,
  );
  return new Map([...rows].map(([, file = '', hash = '']) => [file, hash]));
}

const UPSTREAM = [
  ['kube-flannel.yml', 'flannel/kube-flannel.yml'],
  ['calico.yaml', 'calico/calico.yaml'],
  ['calico-vxlan.yaml', 'calico/calico-vxlan.yaml'],
] as const;

describe('templates/network', () => {
  it('holds each manifest with the sha256 its README names', () => {
    const hashes = readmeHashes();
    expect([...hashes.keys()].sort()).toEqual(UPSTREAM.map(([file]) => file).sort());
    for (const [file, hash] of hashes) expect(sha256(join(TEMPLATES, file)), file).toBe(hash);
  });

  describe.skipIf(skipWithout('network manifests against the shared reference', referenceMissing))(
    'against the shared reference',
    () => {
      it.each(UPSTREAM)('%s is byte-identical to manifests/%s', (file, reference) => {
        expect(sha256(join(TEMPLATES, file))).toBe(sha256(join(REFERENCE, 'manifests', reference)));
      });
    },
  );
});
