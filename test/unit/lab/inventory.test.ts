import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterPaths } from '../../../src/home.js';
import { writeLabCluster } from '../../../src/lab/inventory.js';
import type { LabState } from '../../../src/lab/state.js';

const home = mkdtempSync(join(tmpdir(), 'ks-lab-inventory-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const machine = (i: number, roles: LabState['machines'][number]['roles']) => ({
  name: `lab-${i}`,
  address: `10.9.0.${10 + i}`,
  pid: null,
  roles,
});
const state = (count: number): LabState => ({
  name: 'lab',
  bridge: 'ks-lab',
  gateway: '10.9.0.1',
  subnet: '10.9.0.0/24',
  machines: Array.from({ length: count }, (_, i) => machine(i + 1, i === 0 ? ['etcd', 'master'] : ['node'])),
});

describe('the lab inventory', () => {
  const paths = clusterPaths(home, 'lab');
  const options = { keyFile: join(home, 'id'), bundleDir: '/b/kubernetes-1.34.4' };

  it('a growing lab keeps what the user changed and appends the new machines as nodes', async () => {
    await writeLabCluster(paths, state(2), { ...options, grow: false }, ['k1', 'k2']);
    const edited = readFileSync(paths.inventory, 'utf8')
      .replace('kubernetesVersion: 1.34.4', 'kubernetesVersion: 1.35.4')
      .replace('/b/kubernetes-1.34.4', '/b/kubernetes-1.35.4');
    writeFileSync(paths.inventory, `${edited}# my note\n`);
    expect(await writeLabCluster(paths, state(3), { ...options, grow: true }, ['k1', 'k2', 'k3'])).toBe(true);
    const text = readFileSync(paths.inventory, 'utf8');
    expect(text).toContain('# my note');
    const inventory = parse(text);
    expect(inventory.cluster.kubernetesVersion).toBe('1.35.4');
    expect(inventory.artifacts.dir).toBe('/b/kubernetes-1.35.4');
    expect(inventory.hosts.map((h: { name: string; roles: string[] }) => `${h.name} ${h.roles}`)).toEqual([
      'lab-1 etcd,master',
      'lab-2 node',
      'lab-3 node',
    ]);
  });

  it('a new lab gets a fresh inventory', async () => {
    await writeLabCluster(paths, state(2), { ...options, grow: false }, ['k1', 'k2']);
    const inventory = parse(readFileSync(paths.inventory, 'utf8'));
    expect(inventory.cluster.kubernetesVersion).toBe('1.34.4');
    expect(inventory.hosts).toHaveLength(2);
  });
});
