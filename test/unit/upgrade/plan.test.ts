import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { type LoadedInventory, parseInventory } from '../../../src/inventory/load.js';
import {
  inventoryAt,
  maxUnavailable,
  upgradeBatches,
  upgradePlan,
  upgradeTarget,
} from '../../../src/upgrade/plan.js';

describe('upgrade --to', () => {
  it('accepts the next minor, a later patch, and the same version (a resume); drops a leading v', () => {
    expect(upgradeTarget('1.34.4', '1.35.4')).toBe('1.35.4');
    expect(upgradeTarget('1.34.4', 'v1.34.6')).toBe('1.34.6');
    expect(upgradeTarget('1.35.4', '1.35.4')).toBe('1.35.4');
  });

  it('refuses a skipped minor, a downgrade and what is not a version, each saying what to do', () => {
    expect(() => upgradeTarget('1.34.4', '1.36.0')).toThrow(/skips a minor.*upgrade to 1\.35 first/);
    expect(() => upgradeTarget('1.35.4', '1.34.9')).toThrow(/lower than .*does not downgrade/);
    expect(() => upgradeTarget('1.35.4', '1.35.3')).toThrow(InputError);
    expect(() => upgradeTarget('1.34.4', 'banana')).toThrow(/not a version like 1\.35\.4/);
    expect(() => upgradeTarget('1.34.4', '1.35')).toThrow(/not a version/);
    expect(() => upgradeTarget('1.34.4', '2.0.0')).toThrow(/skips a minor/);
  });
});

describe('--max-unavailable', () => {
  it('defaults to 1, or 10% of the workers when that is more', () => {
    expect(maxUnavailable(undefined, 2)).toBe(1);
    expect(maxUnavailable(undefined, 35)).toBe(3);
  });

  it('takes a count or a share, at least 1', () => {
    expect(maxUnavailable('2', 5)).toBe(2);
    expect(maxUnavailable('50%', 5)).toBe(2);
    expect(maxUnavailable('10%', 2)).toBe(1);
  });

  it('refuses 0, a share above 100% and words', () => {
    for (const bad of ['0', '0%', '150%', 'two', '-1'])
      expect(() => maxUnavailable(bad, 5), bad).toThrow(/--max-unavailable .* at least 1/);
  });
});

const HOSTS = `hosts:
  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }
  - { name: w1, address: 10.0.0.2, roles: [node] }
  - { name: m2, address: 10.0.0.3, roles: [etcd, master, node] }
  - { name: w2, address: 10.0.0.4, roles: [node] }
  - { name: w3, address: 10.0.0.5, roles: [node] }
  - { name: e1, address: 10.0.0.6, roles: [etcd] }
`;

describe('upgrade batches and inventory', () => {
  let dir: string;
  let loaded: LoadedInventory;
  let text: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-upgrade-'));
    writeFileSync(join(dir, 'id_ed25519'), 'a key', { mode: 0o600 });
    text = `# my cluster\ncluster:\n  name: up # the name\n  kubernetesVersion: 1.34.4\nssh: { identityFile: ${join(dir, 'id_ed25519')} }\n${HOSTS}`;
    writeFileSync(join(dir, 'inventory.yaml'), text);
    loaded = await parseInventory(text, join(dir, 'inventory.yaml'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('masters one at a time first, then the pending workers in batches, in inventory order', () => {
    const all = ['m1', 'w1', 'm2', 'w2', 'w3'];
    expect(upgradeBatches(loaded.inventory.hosts, all, 2)).toEqual([['m1'], ['m2'], ['w1', 'w2'], ['w3']]);
    expect(upgradeBatches(loaded.inventory.hosts, ['w3', 'm2'], 1)).toEqual([['m2'], ['w3']]);
    expect(upgradeBatches(loaded.inventory.hosts, [], 1)).toEqual([]);
  });

  it('sets kubernetesVersion in the inventory text, keeping comments, without writing the file', async () => {
    const at = await inventoryAt(loaded, '1.35.4');
    expect(at.loaded.inventory.cluster.kubernetesVersion).toBe('1.35.4');
    expect(at.text).toContain('# my cluster');
    expect(at.text).toContain('name: up # the name');
    expect(at.text).toContain('kubernetesVersion: 1.35.4');
    expect(readFileSync(join(dir, 'inventory.yaml'), 'utf8')).toBe(text);
  });

  it('plans the masters, then the workers at the batch size, and says a re-run resumes', () => {
    const plan = upgradePlan(loaded, '1.35.4', { maxUnavailable: 2, drainTimeoutMs: 300_000, force: false });
    expect(plan).toMatch(/^upgrade plan for cluster up: Kubernetes 1\.34\.4 -> 1\.35\.4/);
    expect(plan).toContain('masters m1, m2: kube-apiserver');
    expect(plan).toContain('workers w1, w2, w3 2 at a time');
    expect(plan).toContain('up to 300 s');
    expect(plan).toMatch(/re-run resumes/);
  });
});
