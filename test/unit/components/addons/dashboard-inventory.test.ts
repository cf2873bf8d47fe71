import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../../src/errors.js';
import { parseInventory } from '../../../../src/inventory/load.js';

const identity = join(mkdtempSync(join(tmpdir(), 'ks-dashboard-inv-')), 'id_ed25519');
writeFileSync(identity, 'a key file, only read for readability\n');

/** An inventory whose addons section is `addons` (YAML), as a user writes it. */
const text = (addons: string) => `cluster: { name: ui }
ssh: { identityFile: ${identity} }
addons:
${addons}
hosts:
  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }
`;

async function problems(addons: string): Promise<string[]> {
  const error = await parseInventory(text(addons), 'inv.yaml').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
}

const dashboardOf = async (addons: string) =>
  (await parseInventory(text(addons), 'inv.yaml')).inventory.addons.dashboard;

describe('addons.dashboard in the inventory', () => {
  it('defaults to a disabled headlamp bound to cluster-admin; true and false are short for enabled', async () => {
    const off = { enabled: false, kind: 'headlamp', role: 'cluster-admin' };
    expect(await dashboardOf('  coredns: true')).toEqual(off);
    expect(await dashboardOf('  dashboard: false')).toEqual(off);
    expect(await dashboardOf('  dashboard: true')).toEqual({ ...off, enabled: true });
    expect(
      await dashboardOf(
        '  dashboard: { enabled: true, kind: kubernetes-dashboard, role: view, version: 2.7.0 }',
      ),
    ).toEqual({
      enabled: true,
      kind: 'kubernetes-dashboard',
      role: 'view',
      version: '2.7.0',
    });
  });

  it('names each bad field with its line', async () => {
    expect(
      await problems(`  dashboard:
    kind: grafana
    role: admin
    image: headlamp:latest
    version: v0.45.0
    tokenTtl: 1h`),
    ).toEqual([
      '5: addons.dashboard.kind: Invalid option: expected one of "headlamp"|"kubernetes-dashboard"',
      '6: addons.dashboard.role: Invalid option: expected one of "cluster-admin"|"view"',
      '7: addons.dashboard.image: must be an image reference naming its registry, e.g. harbor.local/headlamp:v0.45.0',
      '8: addons.dashboard.version: must be a version like 0.45.0 (no leading "v")',
      '9: addons.dashboard.tokenTtl: unknown key',
    ]);
  });

  it('refuses an image and a version together', async () => {
    expect(
      await problems(
        '  dashboard: { enabled: true, image: harbor.local/ui/headlamp:v1.0.0, version: 0.45.0 }',
      ),
    ).toEqual([
      "4: addons.dashboard.version: set either image (a whole reference) or version (a tag of upstream's image), not both",
    ]);
  });
});
