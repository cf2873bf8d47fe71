import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../helpers/prerequisite.js';
import type { EtcdHttp } from './etcd-http.js';
import { etcdLab, kubesmith, labShell, labUnavailable } from './harness.js';

const unavailable = skipWithout('etcd membership e2e', labUnavailable());

const LAB = 'e2e-members';
const shell = labShell(LAB);
const inventoryFile = join(shell.clusterDir, 'inventory.yaml');
const name = (i: number) => `${LAB}-${i}`;

/** Writes one key every 50 ms through member 1 and remembers which writes etcd acknowledged. */
class Writer {
  readonly acknowledged = new Map<string, string>();
  failures = 0;
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(private readonly client: EtcdHttp) {}

  start(): void {
    this.loop = (async () => {
      for (let n = 0; this.running; n++) {
        const key = `/writer/${String(n).padStart(6, '0')}`;
        try {
          await this.client.put(key, `value-${n}`);
          this.acknowledged.set(key, `value-${n}`);
        } catch {
          this.failures++;
        }
        await sleep(50);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe.skipIf(unavailable)(
  'etcd membership: 3 -> 5 -> 3 under a steady writer, and the quorum guard',
  () => {
    let client: EtcdHttp;

    beforeAll(async () => {
      client = await etcdLab(LAB, 5, shell);
    });
    afterAll(async () => {
      client?.close();
      await kubesmith('lab', 'down', '--name', LAB);
    });

    it('grows to 5 and shrinks back to 3 without losing an acknowledged write', async () => {
      const writer = new Writer(client);
      writer.start();
      await sleep(500);
      const inventory = readFileSync(inventoryFile, 'utf8');
      const withEtcd = inventory
        .replace(new RegExp(`(name: ${name(4)}\\n.*\\n    roles:\\n      - node)`), '$1\n      - etcd')
        .replace(new RegExp(`(name: ${name(5)}\\n.*\\n    roles:\\n      - node)`), '$1\n      - etcd');
      expect(withEtcd.match(/- etcd/g)).toHaveLength(5);
      writeFileSync(inventoryFile, withEtcd);

      const add = await kubesmith('add-etcd', LAB, name(4), name(5));
      expect(add.exitCode, add.all).toBe(0);
      expect(add.stderr).toContain(`${name(5)} promoted to a voting member`);
      expect(add.stderr).toContain('etcd healthy: 5 members');

      const del = await kubesmith('del-etcd', LAB, name(4), name(5), '--yes');
      expect(del.exitCode, del.all).toBe(0);
      expect(del.stderr).toContain('etcd healthy: 3 members');
      expect(readFileSync(inventoryFile, 'utf8').match(/- etcd/g)).toHaveLength(3);
      expect(await shell.run(3, 'systemctl is-enabled etcd || true')).toBe('disabled');
      expect(await shell.run(3, 'ls -d /var/lib/etcd/kubesmith-removed-*')).toMatch(
        /^\/var\/lib\/etcd\/kubesmith-removed-/,
      );
      expect(await shell.run(3, 'test -e /etc/etcd/pki && echo kept || echo deleted')).toBe('deleted');

      await sleep(500);
      await writer.stop();
      const stored = await client.range('/writer/');
      const lost = [...writer.acknowledged].filter(([k, v]) => stored.get(k) !== v);
      console.info(
        `writer: ${writer.acknowledged.size} acknowledged, ${writer.failures} refused, ${lost.length} lost`,
      );
      expect(writer.acknowledged.size).toBeGreaterThan(100);
      expect(lost).toEqual([]);
    });

    it('refuses to remove a healthy member while another is down, and to remove the last members', async () => {
      await shell.run(2, 'systemctl stop etcd');
      try {
        const healthy = await kubesmith('del-etcd', LAB, name(1), '--yes', '--force');
        expect(healthy.exitCode, healthy.all).toBe(2);
        expect(healthy.stderr).toMatch(
          /would break quorum: 2 member\(s\) would remain, 1 healthy, 2 needed \(unhealthy now: e2e-members-3/,
        );
        const all = await kubesmith('del-etcd', LAB, name(1), name(2), name(3), '--yes', '--force');
        expect(all.exitCode, all.all).toBe(2);
        expect(all.stderr).toContain('it would leave no etcd member');
        expect(readFileSync(inventoryFile, 'utf8').match(/- etcd/g)).toHaveLength(3);
      } finally {
        await shell.run(2, 'systemctl start etcd');
      }
    });
  },
);
