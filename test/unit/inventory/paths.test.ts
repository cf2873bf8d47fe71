import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { parseInventory } from '../../../src/inventory/load.js';
import { unsafeDirectory } from '../../../src/inventory/paths.js';

describe('directories kubesmith may move or delete', () => {
  it.each([
    '/',
    '/var',
    '/var/lib',
    '/usr',
    '/usr/local/bin',
    '/etc',
    '/opt',
    '/home',
    '/home/alice',
    '/root',
    '/tmp/etcd',
    '/proc/1',
    '/var/lib/etcd/',
    '/var//lib/etcd',
    '/var/lib/./etcd',
    '/var/lib/etcd/../..',
    'var/lib/etcd',
  ])('refuses %s', (path) => {
    expect(unsafeDirectory(path)).toBeDefined();
  });

  it.each(['/var/lib/etcd', '/data/etcd', '/var/lib/etcd-wal', '/opt/kube/bin', '/home/alice/etcd'])(
    'accepts %s',
    (path) => {
      expect(unsafeDirectory(path)).toBeUndefined();
    },
  );

  const inventory = (etcd: string) =>
    [
      'cluster: { name: c }',
      'ssh: { identityFile: /dev/null }',
      `etcd: ${etcd}`,
      'hosts:',
      '  - { name: m1, address: 10.0.0.1, roles: [etcd, master] }',
    ].join('\n');

  const problems = async (etcd: string) =>
    ((await parseInventory(inventory(etcd), 'i.yaml').catch((e: InputError) => e)) as InputError).problems ??
    [];

  it('reports an unsafe path like every other problem: path and message', async () => {
    expect(await problems('{ dataDir: /var/lib }')).toContainEqual(
      expect.objectContaining({ path: 'etcd.dataDir', message: expect.stringContaining('system directory') }),
    );
    expect(await problems('{ walDir: / }')).toContainEqual(
      expect.objectContaining({ path: 'etcd.walDir', message: expect.stringContaining('two levels deep') }),
    );
  });

  it('refuses a WAL dir inside the data dir (swapping <dataDir>/member would take it along)', async () => {
    expect(await problems('{ dataDir: /data/etcd, walDir: /data/etcd/member/wal }')).toContainEqual(
      expect.objectContaining({ path: 'etcd.walDir' }),
    );
  });

  it('is enforced on parse, not only in the JSON schema', async () => {
    await expect(parseInventory(inventory('{ dataDir: /var }'), 'i.yaml')).rejects.toBeInstanceOf(InputError);
  });
});
