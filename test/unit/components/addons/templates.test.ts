import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../../src/package-root.js';
import { skipWithout } from '../../../helpers/prerequisite.js';
import { REFERENCE, referenceMissing } from '../reference.js';

const TEMPLATES = join(PACKAGE_ROOT, 'templates', 'addons');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The README's table: file name → sha256. */
function readmeHashes(): Map<string, string> {
  const rows = readFileSync(join(TEMPLATES, 'README.md'), 'utf8').matchAll(
    /^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/gm,
  );
  return new Map([...rows].map(([, file = '', hash = '']) => [file, hash]));
}

/** templates/addons/<file> → its place under the shared reference's manifests/. */
const UPSTREAM = [
  ['coredns/coredns.yaml.base', 'coredns/coredns.yaml.base'],
  ['nodelocaldns/nodelocaldns.yaml', 'nodelocaldns/nodelocaldns.yaml'],
  ['metrics-server/base/apiservice.yaml', 'metrics-server/manifests/base/apiservice.yaml'],
  ['metrics-server/base/deployment.yaml', 'metrics-server/manifests/base/deployment.yaml'],
  ['metrics-server/base/rbac.yaml', 'metrics-server/manifests/base/rbac.yaml'],
  ['metrics-server/base/service.yaml', 'metrics-server/manifests/base/service.yaml'],
  ['headlamp/kubernetes-headlamp.yaml', 'headlamp/kubernetes-headlamp.yaml'],
  ['dashboard/recommended.yaml', 'dashboard/recommended.yaml'],
] as const;

/** `kubectl kustomize manifests/overlays/release` at metrics-server v0.9.0 (kustomize v5.5.0). */
const RELEASE_BUILD_SHA256 = '1cec29a5267809306a2c6ec74a3e449abbb705b4a8beed0c8a1963910f72c79b';

describe('templates/addons', () => {
  it('holds each manifest with the sha256 its README names', () => {
    const hashes = readmeHashes();
    expect([...hashes.keys()].sort()).toEqual(UPSTREAM.map(([file]) => file).sort());
    for (const [file, hash] of hashes) expect(sha256(join(TEMPLATES, file)), file).toBe(hash);
  });

  it("keeps metrics-server's release build (the test fixture) as kustomize wrote it", () => {
    const build = join(import.meta.dirname, 'metrics-server-release.yaml');
    expect(sha256(build)).toBe(RELEASE_BUILD_SHA256);
    expect(readFileSync(join(TEMPLATES, 'README.md'), 'utf8')).toContain(RELEASE_BUILD_SHA256);
  });

  describe.skipIf(skipWithout('addon manifests against the shared reference', referenceMissing))(
    'against the shared reference',
    () => {
      it.each(UPSTREAM)('%s is byte-identical to manifests/%s', (file, reference) => {
        expect(sha256(join(TEMPLATES, file))).toBe(sha256(join(REFERENCE, 'manifests', reference)));
      });

      it("names the metrics-server release build's sha256 as the reference's README does", () => {
        const readme = readFileSync(join(REFERENCE, 'manifests', 'README.md'), 'utf8');
        expect(readme).toContain(RELEASE_BUILD_SHA256);
      });
    },
  );
});
