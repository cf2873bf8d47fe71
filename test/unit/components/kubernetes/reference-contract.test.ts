import { beforeAll, describe, expect, it } from 'vitest';
import { unitPath } from '../../../../src/components/kubernetes/paths.js';
import { SUPPORTED_KUBERNETES_MINORS } from '../../../../src/inventory/versions.js';
import type { Pki } from '../../../../src/pki/store.js';
import { skipWithout } from '../../../helpers/prerequisite.js';
import { referenceMissing } from '../reference.js';
import { fileAt, inventory, pkiFor, renderCluster, unitFlags, yamlOf } from './fixture.js';
import { deprecatedFields, type HeldReference, nearestReference } from './nearest-reference.js';

/** A version of each supported minor, e.g. 1.34.2. */
const VERSIONS = SUPPORTED_KUBERNETES_MINORS.map((minor) => `${minor}.2`);

/** Which unit on which host carries each component's flags. */
const UNITS = [
  { service: 'kube-apiserver', host: 'm2', reference: 'kube-apiserver.flags' },
  { service: 'kube-controller-manager', host: 'm2', reference: 'kube-controller-manager.flags' },
  { service: 'kube-scheduler', host: 'm2', reference: 'kube-scheduler.flags' },
  { service: 'kubelet', host: 'w1', reference: 'kubelet.flags' },
  { service: 'kube-proxy', host: 'w1', reference: 'kube-proxy.flags' },
] as const;

/** The config files checked field by field against a .fields list. */
const CONFIGS = [
  { path: '/var/lib/kubelet/config.yaml', reference: 'kubelet-config.fields' },
  { path: '/var/lib/kube-proxy/config.yaml', reference: 'kube-proxy-config.fields' },
] as const;

/**
 * Dotted paths of a parsed document, descending only where the reference lists sub-fields: a map
 * (evictionHard) or a list of an outside type (registerWithTaints) is one field.
 */
function fieldPaths(value: unknown, known: Set<string>, prefix = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const hasChildren = [...known].some((k) => k.startsWith(`${path}.`));
    return hasChildren ? [path, ...fieldPaths(child, known, path)] : [path];
  });
}

describe.skipIf(skipWithout('Kubernetes flag and config contract', referenceMissing))(
  'Kubernetes flags and config fields against the upstream reference',
  () => {
    let pki: Pki;
    beforeAll(async () => {
      pki = await pkiFor(inventory());
    });

    describe.each(VERSIONS)('Kubernetes %s', (version) => {
      const minor = version.split('.').slice(0, 2).join('.');

      it.each(UNITS)('every $service flag is listed and not deprecated', ({ service, host, reference }) => {
        // cgroup v1 too, so that every optional line is rendered.
        const files = renderCluster(inventory(), pki, version, true).get(host)!;
        const held: HeldReference = nearestReference(reference, minor);
        const status = new Map(held.rows.map(([name = '', , , s = '']) => [name, s]));
        const flags = unitFlags(fileAt(files, unitPath(service)).content);
        expect(flags.length).toBeGreaterThan(0);
        for (const [name] of flags) {
          expect(status.has(name), `${name} is not in ${held.label}`).toBe(true);
          expect(status.get(name), `${name} is deprecated in ${held.label}`).not.toBe('deprecated');
        }
      });

      it.each(CONFIGS)('every field of $path is listed and not deprecated', ({ path, reference }) => {
        for (const cgroupV1 of [false, true]) {
          const files = renderCluster(inventory(), pki, version, cgroupV1).get('m1')!;
          const held = nearestReference(reference, minor);
          const known = new Set(held.rows.map(([field = '']) => field));
          const deprecated = deprecatedFields(held, reference);
          const fields = fieldPaths(yamlOf(fileAt(files, path)), known);
          expect(fields).toContain('kind');
          for (const field of fields) {
            expect(known.has(field), `${field} is not in ${held.label}`).toBe(true);
            expect(deprecated.has(field), `${field} is deprecated in ${held.label}`).toBe(false);
          }
        }
      });
    });

    it('names the reference version it used when the minor is not held', () => {
      expect(nearestReference('kube-proxy.flags', '1.36').label).toBe(
        'kube-proxy.flags of 1.31 (nearest held to 1.36)',
      );
      expect(nearestReference('kube-apiserver.flags', '1.37').label).toBe('kube-apiserver.flags of 1.37');
    });
  },
);
