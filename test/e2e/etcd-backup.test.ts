import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../helpers/prerequisite.js';
import { EtcdHttp } from './etcd-http.js';
import { etcdLab, kubesmith, labShell, labUnavailable } from './harness.js';

const unavailable = skipWithout('etcd backup/restore e2e', labUnavailable());

/** The restore drill of the issue, on 3 members; run with and without a separate WAL dir. */
for (const walDir of ['', '/var/lib/etcd-wal']) {
  const LAB = walDir ? 'e2e-wal' : 'e2e-etcd';
  const shell = labShell(LAB);
  const backups = join(shell.clusterDir, 'backups');
  let client: EtcdHttp;
  let original: Map<string, string>;

  describe.skipIf(unavailable)(`etcd restore drill${walDir ? ` with the WAL in ${walDir}` : ''}`, () => {
    beforeAll(async () => {
      client = await etcdLab(LAB, 3, shell, walDir ? (t) => `${t}etcd:\n  walDir: ${walDir}\n` : undefined);
    });
    afterAll(async () => {
      client?.close();
      await kubesmith('lab', 'down', '--name', LAB);
    });

    it('restores the backup of an empty cluster (snapshot revision 0, restored revision 1)', async () => {
      const run = await kubesmith('backup', LAB, '--note', 'empty');
      expect(run.exitCode, run.all).toBe(0);
      expect(run.stdout).toMatch(/revision 0, 0 keys/);
      const restore = await kubesmith('restore', LAB, 'latest', '--yes');
      expect(restore.exitCode, restore.all).toBe(0);
      expect(restore.stdout).toMatch(/0 keys, all members healthy/);
    });

    it('backs up 10,000 keys and verifies the copy', async () => {
      const entries = Array.from({ length: 10_000 }, (_, i): [string, string] => [
        `/drill/original/${i}`,
        randomBytes(16).toString('base64'),
      ]);
      await client.putAll(entries);
      original = new Map(entries);
      const run = await kubesmith('backup', LAB, '--note', 'drill');
      expect(run.exitCode, run.all).toBe(0);
      const figures = run.stdout.match(/revision (\d+), (\d+) keys, ([\d.]+) MiB, from \S+, in ([\d.]+)s/);
      expect(Number(figures?.[2])).toBe(10_000);
      console.info(`backup of 10,000 keys: ${figures?.[4]} s, snapshot ${figures?.[3]} MiB`);
      const name = run.stdout.match(/^backup (\S+):/m)?.[1];
      const manifest = JSON.parse(readFileSync(join(backups, name!, 'manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({
        cluster: LAB,
        keyCount: 10_000,
        members: [`${LAB}-1`, `${LAB}-2`, `${LAB}-3`],
        walDir,
      });
      expect(existsSync(join(backups, name!, 'pki', 'etcd', 'ca.key'))).toBe(true);
      expect(existsSync(join(backups, name!, 'inventory.yaml'))).toBe(true);
      // The id the hosts' markers carry: a deploy machine rebuilt from this folder needs it.
      expect(readFileSync(join(backups, name!, 'cluster-id'), 'utf8')).toBe(
        readFileSync(join(shell.clusterDir, 'cluster-id'), 'utf8'),
      );
      expect(await shell.run(0, 'ls -A /var/lib/kubesmith-backup')).toBe('');
      expect(await shell.run(0, 'stat -c %a /var/lib/kubesmith-backup')).toBe('700');
      const list = await kubesmith('backup', LAB, '--list');
      expect(list.stdout).toContain(name!);
    });

    it('restore latest brings back exactly the original keys and keeps the old data aside', async () => {
      await client.deletePrefix('/drill/original/');
      await client.putAll(
        Array.from({ length: 500 }, (_, i): [string, string] => [`/drill/later/${i}`, 'x']),
      );
      const run = await kubesmith('restore', LAB, 'latest', '--yes');
      expect(run.exitCode, run.all).toBe(0);
      expect(run.stdout).toMatch(/10000 keys, all members healthy/);
      const third = new EtcdHttp(join(shell.clusterDir, 'pki'), `https://${shell.addresses[2]}:2379`);
      try {
        expect(await third.range('/drill/later/')).toEqual(new Map());
        expect(await third.range('/drill/original/')).toEqual(original);
      } finally {
        third.close();
      }
      // This run's old data, kept aside inside the data (and WAL) dir: one line per member.
      const kept = [...run.stdout.matchAll(/^ {2}(\S+):(\S+)(?: and (\S+))?$/gm)];
      expect(kept).toHaveLength(3);
      for (const i of [0, 1, 2]) {
        const [, host, data, wal] = kept.find((k) => k[1] === `${LAB}-${i + 1}`)!;
        expect(host).toBe(`${LAB}-${i + 1}`);
        expect(data).toMatch(/^\/var\/lib\/etcd\/kubesmith-before-restore-/);
        const paths = [data!, ...(wal ? [wal] : [])];
        expect(Boolean(wal)).toBe(Boolean(walDir));
        expect((await shell.run(i, `ls -d ${paths.join(' ')}`)).split('\n').sort()).toEqual(paths.sort());
      }
      // The restore took a safety snapshot, the newest backup now: latest must still mean the user's.
      const backupName = run.stdout.match(/^restored (\S+):/m)?.[1];
      const repeat = await kubesmith('restore', LAB, 'latest', '--yes');
      expect(repeat.exitCode, repeat.all).toBe(0);
      expect(repeat.stdout).toContain(`restored ${backupName}:`);
      const again = await kubesmith('setup', LAB, '02');
      expect(again.exitCode, again.all).toBe(0);
      expect(again.stdout).toContain('etcd healthy: 3 members');
      expect(again.stdout).toContain('0 change(s)');
    });

    if (!walDir) {
      describe('a bad restore changes nothing on any host', () => {
        const stamps = () =>
          Promise.all(
            [0, 1, 2].map((i) =>
              shell.run(i, 'systemctl show -p ActiveEnterTimestampMonotonic etcd; ls -d /var/lib/etcd*'),
            ),
          );
        const forged = (name: string, edit: (dir: string) => void) => {
          const [latest] = readdirSync(backups).sort().reverse();
          const dir = join(backups, name);
          cpSync(join(backups, latest!), dir, { recursive: true });
          edit(dir);
          return name;
        };
        const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

        const cases: [string, () => string, RegExp][] = [
          ['a missing backup', () => 'no-such-backup', /no backup 'no-such-backup'/],
          [
            'a snapshot whose sha256 differs from its manifest',
            () =>
              forged('0000-bad-sha', (dir) =>
                writeFileSync(
                  join(dir, 'snapshot.db'),
                  Buffer.concat([readFileSync(join(dir, 'snapshot.db')), Buffer.from('x')]),
                ),
              ),
            /does not match the manifest/,
          ],
          [
            'a truncated snapshot',
            () =>
              forged('0000-truncated', (dir) => {
                truncateSync(join(dir, 'snapshot.db'), 4096);
                const m = manifestOf(dir);
                m.snapshot.sha256 = createHash('sha256')
                  .update(readFileSync(join(dir, 'snapshot.db')))
                  .digest('hex');
                writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
              }),
            /snapshot.db: snapshot .* is damaged/,
          ],
          [
            'a backup of another cluster',
            () =>
              forged('0000-other-cluster', (dir) => {
                const m = manifestOf(dir);
                m.cluster = 'someone-else';
                writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
              }),
            /is of cluster 'someone-else'/,
          ],
        ];
        it.each(cases)('refuses %s', async (_what, make, message) => {
          const before = await stamps();
          const run = await kubesmith('restore', LAB, make(), '--yes');
          expect(run.exitCode).toBe(2);
          expect(run.stderr).toMatch(message);
          expect(await stamps()).toEqual(before);
        });
      });
    }
  });
}
