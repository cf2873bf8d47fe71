import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, type Problem } from '../../../src/errors.js';
import { loadInventory, parseInventory } from '../../../src/inventory/load.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'inventories');
const badDir = join(fixtures, 'bad');

async function problemsOf(file: string): Promise<Problem[]> {
  try {
    await loadInventory(file);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error(`${file} was accepted`);
}

describe('inventory validation', () => {
  let connects = 0;
  const realConnect = Socket.prototype.connect;
  beforeAll(() => {
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      connects++;
      return (realConnect as (...a: unknown[]) => Socket).apply(this, args);
    } as typeof Socket.prototype.connect;
  });
  afterAll(() => {
    Socket.prototype.connect = realConnect;
  });

  it('accepts the example inventory and fills defaults', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ks-home-'));
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_ed25519'), 'key');
    const previous = process.env.HOME;
    process.env.HOME = home;
    try {
      const { inventory } = await loadInventory(
        join(import.meta.dirname, '..', '..', '..', 'inventory.example.yaml'),
      );
      expect(inventory.cluster.name).toBe('prod-1');
      expect(inventory.hosts).toHaveLength(5);
      expect(inventory.hosts[4]?.ssh?.port).toBe(2222);
    } finally {
      process.env.HOME = previous;
    }
  });

  it('fills every default of a minimal inventory', async () => {
    const { inventory } = await loadInventory(join(fixtures, 'good', 'minimal.yaml'));
    expect(inventory.cluster.network).toEqual({
      plugin: 'calico',
      podCidr: '172.20.0.0/16',
      serviceCidr: '10.68.0.0/16',
      nodeCidrMaskSize: 24,
      proxyMode: 'ipvs',
      nodePortRange: '30000-32767',
      dnsDomain: 'cluster.local',
      upstreamDns: [],
      flannel: { backend: 'vxlan' },
      calico: { backend: 'bird' },
      mtu: 0,
      interface: '',
    });
    expect(inventory.cluster.mastersSchedulable).toBe(false);
    expect(inventory.kubelet.maxPods).toBe(110);
    expect(inventory.ssh).toMatchObject({
      user: 'root',
      port: 22,
      hostKeyPolicy: 'accept-new',
      concurrency: 20,
      bastion: null,
    });
    expect(inventory.etcd).toEqual({ dataDir: '/var/lib/etcd', walDir: '', backupsToKeep: 7 });
    expect(inventory.hosts[0]?.labels).toEqual({});
    expect(inventory.hosts[0]?.taints).toEqual([]);
  });

  const files = readdirSync(badDir).filter((f) => f.endsWith('.yaml'));
  it('has a corpus of at least 25 bad inventories', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  it.each(files)('rejects %s with the expected path and message', async (name) => {
    const file = join(badDir, name);
    const expected = [...readFileSync(file, 'utf8').matchAll(/^# expect: (\S+): (.*)$/gm)].map((m) => ({
      path: m[1],
      text: m[2]?.trim(),
    }));
    expect(expected.length).toBeGreaterThan(0);
    const problems = await problemsOf(file);
    for (const want of expected) {
      const match = problems.find((p) => p.path === want.path && p.message.includes(want.text ?? ''));
      expect(match, `${want.path}: ${want.text} in ${JSON.stringify(problems)}`).toBeDefined();
      expect(match?.file).toBe(file);
      expect(match?.line).toBeGreaterThan(0);
    }
  });

  it('reports schema and cross-field problems together', async () => {
    const text = readFileSync(join(badDir, '07-pod-service-overlap.yaml'), 'utf8').replace(
      'plugin: calico',
      'plugin: weave',
    );
    const error = await parseInventory(text, 'x.yaml').catch((e: InputError) => e);
    const paths = (error as InputError).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['cluster.network.plugin', 'cluster.network.serviceCidr']));
  });

  it('allows an even etcd count only when asked', async () => {
    const file = join(badDir, '16-even-etcd.yaml');
    await expect(loadInventory(file)).rejects.toThrow(InputError);
    await expect(loadInventory(file, { allowEvenEtcd: true })).resolves.toBeDefined();
  });

  it('gives the line of the offending value', async () => {
    const problems = await problemsOf(join(badDir, '05-unknown-plugin.yaml'));
    expect(problems[0]?.line).toBe(6);
  });

  it('opened no connection while validating', () => {
    expect(connects).toBe(0);
  });
});
