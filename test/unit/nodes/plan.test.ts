import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { type LoadedInventory, parseInventory } from '../../../src/inventory/load.js';
import { refuseLastMaster } from '../../../src/nodes/master-plan.js';
import { hostsNamed, inventoryWithoutWorkers, parseDuration, workersNamed } from '../../../src/nodes/plan.js';

const HOSTS = `hosts:
  # the control plane
  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }
  - { name: w1, address: 10.0.0.2, roles: [node] }
  - { name: w2, address: 10.0.0.3, roles: [node] }
  - { name: mw, address: 10.0.0.4, roles: [master, node] }
`;

describe('add-node and del-node input checks', () => {
  let dir: string;
  let loaded: LoadedInventory;
  let TEXT: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-nodes-'));
    writeFileSync(join(dir, 'id_ed25519'), 'a key', { mode: 0o600 });
    TEXT = `cluster: { name: nodes }\nssh: { identityFile: ${join(dir, 'id_ed25519')} }\n${HOSTS}`;
    writeFileSync(join(dir, 'inventory.yaml'), TEXT);
    loaded = await parseInventory(TEXT, join(dir, 'inventory.yaml'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts workers and returns their hosts', () => {
    expect(workersNamed('del-node', loaded, ['w1', 'w2']).map((h) => h.address)).toEqual([
      '10.0.0.2',
      '10.0.0.3',
    ]);
  });

  it('names every problem at once: unknown hosts, masters, etcd members, repeats', () => {
    const error = (() => {
      try {
        workersNamed('add-node', loaded, ['nope', 'm1', 'mw', 'w1', 'w1']);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message).toContain('a host is named twice');
    expect(message).toContain('nope is not a host in');
    expect(message).toContain('add it there with role node first');
    expect(message).toContain('m1 does not have the node role');
    expect(message).toContain('mw is also master');
  });

  it('the inventory without the workers keeps comments and the other hosts', async () => {
    const text = await inventoryWithoutWorkers(loaded, ['w2']);
    expect(text).toContain('# the control plane');
    expect(text).not.toContain('w2');
    expect(text).toContain('name: w1');
    expect(readFileSync(join(dir, 'inventory.yaml'), 'utf8')).toBe(TEXT);
  });

  it('durations: seconds, minutes, hours; nonsense refused naming the option', () => {
    expect(parseDuration('--drain-timeout', '90s')).toBe(90_000);
    expect(parseDuration('--drain-timeout', '5m')).toBe(300_000);
    expect(parseDuration('--drain-timeout', '1h')).toBe(3_600_000);
    expect(parseDuration('--drain-timeout', '45')).toBe(45_000);
    for (const bad of ['0', '5 minutes', '-1m', ''])
      expect(() => parseDuration('--drain-timeout', bad)).toThrow(/--drain-timeout takes a duration/);
  });

  it('masters: etcd members refused (their quorum guard first), the last master never removed', () => {
    expect(hostsNamed('add-master', loaded, ['mw'], 'master').map((h) => h.name)).toEqual(['mw']);
    expect(() => hostsNamed('del-master', loaded, ['m1'], 'master')).toThrow(
      /m1 is also etcd: del-master takes masters that are not etcd members/,
    );
    expect(() => hostsNamed('del-master', loaded, ['w1'], 'master')).toThrow(
      /w1 does not have the master role/,
    );
    expect(() => refuseLastMaster(loaded, ['m1', 'mw'])).toThrow(/the last master/);
    expect(() => refuseLastMaster(loaded, ['mw'])).not.toThrow();
  });
});
