import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventoryWithout } from '../../../src/commands/membership.js';
import { InputError } from '../../../src/errors.js';
import {
  joinAction,
  joiningInitialCluster,
  memberLabel,
  memberOf,
  strangers,
} from '../../../src/etcd/members.js';
import {
  healthByMember,
  type Member,
  memberListSchema,
  parseEtcdJson,
  peerUrl,
  snapshotRestoreArgv,
} from '../../../src/etcd/ops.js';
import { loadInventory, parseInventory } from '../../../src/inventory/load.js';
import { inventorySchema } from '../../../src/inventory/schema.js';

const v6 = inventorySchema.parse({
  cluster: { name: 'six' },
  hosts: [
    { name: 'e1', address: 'fd00::1', roles: ['etcd', 'master'] },
    { name: 'e2', address: 'fd00::2', roles: ['etcd', 'master'] },
    { name: 'e3', address: 'fd00::3', roles: ['etcd', 'master'] },
    { name: 'e4', address: 'fd00::4', roles: ['etcd', 'node'] },
  ],
});
const [e1, e2, e3, e4] = v6.hosts as [
  (typeof v6.hosts)[0],
  (typeof v6.hosts)[0],
  (typeof v6.hosts)[0],
  (typeof v6.hosts)[0],
];

/** `member list -w json` as etcd prints it: uint64 IDs, a learner added but never started has no name. */
const listed = (extra = '') =>
  memberListSchema.parse(
    parseEtcdJson(
      `{"header":{"cluster_id":17237436991929493444},"members":[
      {"ID":9372538179322589801,"name":"e1","peerURLs":["https://[fd00::1]:2380"],"clientURLs":["https://[fd00::1]:2379"]},
      {"ID":10501334649042878790,"name":"e2","peerURLs":["https://[fd00:0:0::2]:2380"]},
      {"ID":18249187646912138824,"name":"e3","peerURLs":["https://[FD00::3]:2380"]}${extra}]}`,
    ),
  ).members;
const unstartedLearner =
  ',{"ID":12345678901234567890,"peerURLs":["https://[fd00::4]:2380"],"isLearner":true}';

describe('etcd members on an IPv6 inventory', () => {
  it('brackets IPv6 in every URL kubesmith builds', () => {
    expect(peerUrl(e1)).toBe('https://[fd00::1]:2380');
    const argv = snapshotRestoreArgv('3.5.21', '/s.db', e2, v6, '/var/lib/etcd/x');
    expect(argv).toContain('--initial-advertise-peer-urls=https://[fd00::2]:2380');
    expect(argv.find((a) => a.startsWith('--initial-cluster='))).toBe(
      '--initial-cluster=e1=https://[fd00::1]:2380,e2=https://[fd00::2]:2380,e3=https://[fd00::3]:2380,e4=https://[fd00::4]:2380',
    );
  });

  it('a restore moves the revision past every watcher and marks the old ones compacted, where etcdutl can', () => {
    const bump = ['--bump-revision=1000000000', '--mark-compacted'];
    for (const version of ['3.5.10', '3.5.21', '3.6.7'])
      expect(snapshotRestoreArgv(version, '/s.db', e2, v6, '/d').slice(-2), version).toEqual(bump);
    for (const version of ['3.5.9', '3.4.34'])
      expect(snapshotRestoreArgv(version, '/s.db', e2, v6, '/d'), version).not.toContain('--mark-compacted');
  });

  it('reads endpoint health by address with the URL class, whatever the spelling', () => {
    const health = healthByMember(
      [
        { endpoint: 'https://[fd00::1]:2379', health: true },
        { endpoint: 'https://[fd00:0::2]:2379', health: true },
        { endpoint: 'https://[fd00::3]:2379', health: false },
      ],
      [e1, e2, e3],
    );
    expect([...health]).toEqual([
      ['e1', true],
      ['e2', true],
      ['e3', false],
    ]);
  });

  it('finds members by peer URL, an unstarted learner (no name) included', () => {
    const members = listed(unstartedLearner);
    expect(memberOf(e2, members)?.name).toBe('e2');
    expect(memberOf(e4, members)?.ID).toBe('12345678901234567890');
    expect(joinAction(e4, members)).toBe('start');
    expect(joinAction(e1, members)).toBe('skip');
    expect(joinAction(e4, listed())).toBe('add');
    expect(memberLabel(memberOf(e4, members)!, v6.hosts)).toBe('e4');
    expect(strangers(members, v6.hosts)).toEqual([]);
  });

  it('builds the initial cluster of a learner restarted by a re-run under its host name', () => {
    const members = listed(unstartedLearner);
    expect(joiningInitialCluster(members, memberOf(e4, members)!, 'e4')).toBe(
      'e1=https://[fd00::1]:2380,e2=https://[fd00:0:0::2]:2380,e3=https://[FD00::3]:2380,e4=https://[fd00::4]:2380',
    );
  });

  it('promotes a learner that started, and names a member the inventory does not know', () => {
    const started: Member[] = listed(unstartedLearner).map((m) => (m.name ? m : { ...m, name: 'e4' }));
    expect(joinAction(e4, started)).toBe('promote');
    const other = listed(',{"ID":1,"name":"x","peerURLs":["https://[fd00::9]:2380"]}');
    expect(strangers(other, v6.hosts).map((m) => m.name)).toEqual(['x']);
  });
});

describe('del-etcd validates the inventory it will write before removing anyone', () => {
  const write = (etcdHosts: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-del-'));
    writeFileSync(join(dir, 'id'), 'key');
    const file = join(dir, 'inventory.yaml');
    writeFileSync(
      file,
      [
        'cluster: { name: c }',
        'ssh: { identityFile: id }',
        'hosts:',
        ...Array.from(
          { length: etcdHosts },
          (_, i) =>
            `  - { name: e${i + 1}, address: 10.0.0.${i + 1}, roles: [etcd${i === 0 ? ', master' : ''}] }`,
        ),
      ].join('\n'),
    );
    return file;
  };

  it('accepts 3 -> 2 (--force): an even count is the quorum guard call, not a reload failure half-way', async () => {
    const file = write(3);
    const loaded = await loadInventory(file);
    const { next } = await inventoryWithout({ loaded, paths: {} as never }, ['e3']);
    expect(next.inventory.hosts.map((h) => h.name)).toEqual(['e1', 'e2']);
  });

  it('(the reload of the written file, as before, failed on the even count after member remove)', async () => {
    const file = write(3);
    const loaded = await loadInventory(file);
    const { text } = await inventoryWithout({ loaded, paths: {} as never }, ['e3']);
    await expect(parseInventory(text, file)).rejects.toBeInstanceOf(InputError);
  });
});
