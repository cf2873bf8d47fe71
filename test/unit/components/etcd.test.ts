import { describe, expect, it } from 'vitest';
import { clientEndpoints, etcdFlags, initialCluster } from '../../../src/components/etcd.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { readTable, referenceMissing } from './reference.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'prod' },
  etcd: { walDir: '/data/etcd-wal' },
  hosts: [
    { name: 'e1', address: '10.0.0.1', roles: ['etcd', 'master'] },
    { name: 'e2', address: '10.0.0.2', roles: ['etcd', 'master'] },
    { name: 'e3', address: '10.0.0.3', roles: ['etcd', 'master'] },
  ],
});
const member = inventory.hosts[1]!;

describe.skipIf(skipWithout('etcd flag contract', referenceMissing))(
  'etcd flags against the upstream flag lists',
  () => {
    it.each(['3.4.23', '3.5.21', '3.6.7', '3.7.1'])(
      'every flag rendered for etcd %s exists there and is not deprecated',
      (version) => {
        const reference = new Map(
          readTable(`etcd/${version.split('.').slice(0, 2).join('.')}.flags`).map(
            ([name = '', , , status = '']) => [name, status],
          ),
        );
        for (const flag of etcdFlags(version, member, inventory)) {
          const name = flag.split('=')[0]!;
          expect(reference.has(name), `${name} in etcd ${version}`).toBe(true);
          expect(reference.get(name), `${name} status in etcd ${version}`).not.toBe('deprecated');
        }
      },
    );
  },
);

describe('etcd member configuration', () => {
  const flags = etcdFlags('3.6.7', member, inventory);
  const value = (name: string) =>
    flags
      .find((f) => f.startsWith(`${name}=`))
      ?.split('=')
      .slice(1)
      .join('=');

  it('speaks TLS only, with client certificates required on both ports', () => {
    expect(value('--listen-client-urls')).toBe('https://10.0.0.2:2379,https://127.0.0.1:2379');
    expect(value('--listen-peer-urls')).toBe('https://10.0.0.2:2380');
    expect(value('--client-cert-auth')).toBe('true');
    expect(value('--peer-client-cert-auth')).toBe('true');
    expect(
      flags
        .filter((f) => f.includes('http://'))
        .every((f) => f.startsWith('--listen-metrics-urls=http://127.0.0.1:')),
    ).toBe(true);
  });

  it('names the full initial cluster and honours a separate WAL dir', () => {
    expect(initialCluster(inventory)).toBe(
      'e1=https://10.0.0.1:2380,e2=https://10.0.0.2:2380,e3=https://10.0.0.3:2380',
    );
    expect(value('--wal-dir')).toBe('/data/etcd-wal');
    expect(value('--name')).toBe('e2');
  });

  it('uses the feature gate from 3.6 on, the experimental flag before', () => {
    expect(flags).toContain('--feature-gates=InitialCorruptCheck=true');
    expect(etcdFlags('3.4.23', member, inventory)).toContain('--experimental-initial-corrupt-check=true');
  });
});

describe('etcd URLs on IPv6', () => {
  const v6 = inventorySchema.parse({
    cluster: { name: 'prod' },
    hosts: [
      { name: 'e1', address: 'fd00::1', roles: ['etcd', 'master'] },
      { name: 'e2', address: 'fd00::2', roles: ['etcd', 'master'] },
      { name: 'e3', address: 'fd00::3', roles: ['etcd', 'master'] },
    ],
  });

  it('brackets every address in peer and client URLs', () => {
    expect(initialCluster(v6)).toBe(
      'e1=https://[fd00::1]:2380,e2=https://[fd00::2]:2380,e3=https://[fd00::3]:2380',
    );
    expect(clientEndpoints(v6)).toEqual([
      'https://[fd00::1]:2379',
      'https://[fd00::2]:2379',
      'https://[fd00::3]:2379',
    ]);
    const flags = etcdFlags('3.6.7', v6.hosts[0]!, v6);
    expect(flags).toContain('--listen-client-urls=https://[fd00::1]:2379,https://127.0.0.1:2379');
    expect(flags).toContain('--initial-advertise-peer-urls=https://[fd00::1]:2380');
  });
});
