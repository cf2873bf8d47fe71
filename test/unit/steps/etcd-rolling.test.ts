import { describe, expect, it } from 'vitest';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { clusterRunning, memberReading, unhealthyOthers } from '../../../src/steps/etcd.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'prod' },
  hosts: [
    { name: 'e1', address: '10.0.0.1', roles: ['etcd', 'master'] },
    { name: 'e2', address: '10.0.0.2', roles: ['etcd', 'master'] },
    { name: 'e3', address: '10.0.0.3', roles: ['etcd', 'master'] },
  ],
});

const NONCE = 'f00d';
/** What the host prints for the read, sections as sectionedRead frames them. */
const output = (uname: string, active: string, health: string) =>
  `${[uname, active, health].map((text, i) => `\n@@${NONCE}:${['uname', 'active', 'health'][i]}\n${text}`).join('')}\n@@${NONCE}:end\n`;
const parse = (stdout: string) => {
  const read = memberReading(inventory);
  return read.parse(stdout.replaceAll(NONCE, read.script.match(/@@([0-9a-f]+):/)![1]!));
};
const health = (healthy: string[]) =>
  JSON.stringify(
    ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((a, i) => ({
      endpoint: `https://${a}:2379`,
      health: healthy.includes(`e${i + 1}`),
      took: '1ms',
    })),
  );

describe('etcd step: new cluster or rolling restart, decided per cluster', () => {
  it('reads arch, the member state and every member health in one command', () => {
    const { script } = memberReading(inventory);
    expect(script).toContain('systemctl is-active etcd.service');
    expect(script).toContain('--endpoints=https://10.0.0.1:2379,https://10.0.0.2:2379,https://10.0.0.3:2379');
    expect(script).toContain('endpoint health -w json');
  });

  it('a member that is down while the others serve sees a running cluster (it takes its turn)', () => {
    const reading = parse(output('x86_64', 'failed', health(['e2', 'e3'])));
    expect(reading).toEqual({ uname: 'x86_64', active: false, healthy: ['e2', 'e3'] });
    expect(clusterRunning(reading)).toBe(true);
  });

  it('fresh hosts (no etcdctl yet, nothing answers) start a new cluster together', () => {
    const reading = parse(output('aarch64', 'inactive', ''));
    expect(reading).toEqual({ uname: 'aarch64', active: false, healthy: [] });
    expect(clusterRunning(reading)).toBe(false);
  });

  it('an active member is a running cluster even when the health read says nothing', () => {
    expect(clusterRunning(parse(output('x86_64', 'active', 'not json')))).toBe(true);
  });

  it('names the other members that are not healthy before a restart', () => {
    const all = new Map([
      ['e1', true],
      ['e2', true],
      ['e3', true],
    ]);
    expect(unhealthyOthers(inventory, 'e1', all)).toEqual([]);
    expect(unhealthyOthers(inventory, 'e1', new Map([...all, ['e3', false]]))).toEqual(['e3']);
    // Its own health does not matter: a member that is down may be started.
    expect(unhealthyOthers(inventory, 'e2', new Map([...all, ['e2', false]]))).toEqual([]);
    expect(unhealthyOthers(inventory, 'e2', new Map())).toEqual(['e1', 'e3']);
  });
});
