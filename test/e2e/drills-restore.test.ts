import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { skipWithout } from '../helpers/prerequisite.js';
import { EtcdHttp } from './etcd-http.js';
import { kubesmith, labShell, labUnavailable } from './harness.js';

/**
 * Fault drill (issue 12): restore with a writer running until etcd stops, on members whose
 * data dir is a mount point (a dedicated disk, as etcd recommends; here a tmpfs mounted inside
 * each lab machine before setup 02). The writer keeps writing while the backup is taken and
 * while the restore runs (its safety snapshot included) until etcd stops; the restored cluster
 * must hold exactly the backup's keys, the data dir must still be a mount point with the old
 * data kept aside inside it, every member healthy, a second restore possible, nothing half-done.
 */
const unavailable = skipWithout('restore drill', labUnavailable());

const LAB = 'e2e-drill-restore';
const MEMBERS = [0, 1, 2];
const host = (i: number) => `${LAB}-${i + 1}`;
const shell = labShell(LAB);
const pki = () => join(shell.clusterDir, 'pki');

/** A small TLS client for what EtcdHttp does not ask: the whole keyspace (at a revision), health, members. */
class EtcdProbe {
  private readonly agent: Agent;
  constructor(readonly endpoint: string) {
    this.agent = new Agent({
      keepAlive: false,
      ca: readFileSync(join(pki(), 'etcd', 'ca.crt')),
      cert: readFileSync(join(pki(), 'etcd', 'kubesmith-client.crt')),
      key: readFileSync(join(pki(), 'etcd', 'kubesmith-client.key')),
    });
  }
  private call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.endpoint}${path}`,
        { method, agent: this.agent, headers: { 'content-type': 'application/json' }, timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode} ${text}`));
            else resolve(JSON.parse(text) as T);
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${path}: timed out`)));
      req.end(body ? JSON.stringify(body) : undefined);
    });
  }
  /** Every key of the cluster with its value, now or at `revision` (etcd's MVCC: the state a snapshot at that revision holds). */
  async all(revision?: number): Promise<Map<string, string>> {
    const res = await this.call<{ kvs?: { key: string; value?: string }[] }>('POST', '/v3/kv/range', {
      key: 'AA==',
      range_end: 'AA==',
      ...(revision ? { revision: String(revision) } : {}),
    });
    const text = (s: string) => Buffer.from(s, 'base64').toString();
    return new Map((res.kvs ?? []).map((kv) => [text(kv.key), text(kv.value ?? '')]));
  }
  async healthy(): Promise<boolean> {
    return (await this.call<{ health?: string }>('GET', '/health')).health === 'true';
  }
  async members(): Promise<{ name?: string; isLearner?: boolean }[]> {
    return (
      (
        await this.call<{ members?: { name?: string; isLearner?: boolean }[] }>(
          'POST',
          '/v3/cluster/member/list',
          {},
        )
      ).members ?? []
    );
  }
  close() {
    this.agent.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Write {
  key: string;
  value: string;
  /** The revision etcd acknowledged it at. */
  revision: number;
  phase: string;
}

/**
 * Writes keys one at a time (so each acknowledged write has its own revision) against the lab's
 * etcd until told to stop, until it fails once `stopOnError` is set (etcd stopped), or until its
 * bounds (count, time): it never throws, it counts the errors.
 */
class Writer {
  readonly acked: Write[] = [];
  readonly errors: { phase: string; message: string }[] = [];
  phase = 'before-backup';
  /** Once set, the first failed write ends the loop: etcd is stopping. */
  stopOnError = false;
  stoppedBy = '';
  /** When the loop ended (ms since the epoch). */
  stoppedAt = 0;
  private stopAsked = false;
  readonly done: Promise<void>;

  constructor(
    private readonly client: EtcdHttp,
    private readonly limits = { keys: 20_000, ms: 300_000, pauseMs: 5 },
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    this.stoppedBy = await this.write();
    this.stoppedAt = Date.now();
  }

  /** Writes until a reason to stop; returns it. */
  private async write(): Promise<string> {
    const deadline = Date.now() + this.limits.ms;
    for (let seq = 0; ; seq++) {
      if (this.stopAsked) return 'asked';
      if (seq >= this.limits.keys) return 'key limit';
      if (Date.now() > deadline) return 'time limit';
      const key = `/drill/writer/${String(seq).padStart(6, '0')}`;
      const value = `${this.phase}:${randomBytes(6).toString('hex')}`;
      try {
        const res = await this.client.put(key, value);
        this.acked.push({ key, value, revision: Number(res.header.revision), phase: this.phase });
      } catch (error) {
        this.errors.push({ phase: this.phase, message: (error as Error).message });
        if (this.stopOnError) return `etcd down: ${(error as Error).message}`;
        await sleep(200);
      }
      await sleep(this.limits.pauseMs);
    }
  }

  ackedIn(phase: string): number {
    return this.acked.filter((w) => w.phase === phase).length;
  }

  waitAcked(phase: string, count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return (async () => {
      while (this.ackedIn(phase) < count) {
        if (this.stoppedBy || Date.now() > deadline)
          throw new Error(
            `writer: ${this.ackedIn(phase)}/${count} writes in ${phase} (${this.stoppedBy || 'timed out'})`,
          );
        await sleep(50);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopAsked = true;
    await this.done;
  }
}

describe.skipIf(unavailable)('restore drill: a writer until etcd stops, the data dir a mount point', () => {
  let dataDir = '';
  let client: EtcdHttp | undefined;
  let writer: Writer | undefined;
  let backupName = '';
  let backupRevision = 0;
  /** The backup's keys: the cluster's keyspace at the backup's revision, read before the restore. */
  let expected = new Map<string, string>();
  const restoreRuns: string[] = [];

  const mounted = async (i: number) => {
    const out = await shell.run(
      i,
      `if mountpoint -q ${dataDir}; then echo mounted; findmnt -n -o FSTYPE --mountpoint ${dataDir}; findmnt -n -o TARGET -T ${dataDir}/member; else echo not-mounted; fi`,
    );
    return out.split('\n');
  };

  /** Every member's keyspace equals `want`; every member healthy, a voting member, etcd active. */
  async function expectCluster(want: Map<string, string>) {
    for (const i of MEMBERS) {
      const probe = new EtcdProbe(`https://${shell.addresses[i]}:2379`);
      try {
        expect(await probe.healthy(), `${host(i)} healthy`).toBe(true);
        const members = await probe.members();
        expect(members.map((m) => m.name).sort()).toEqual(MEMBERS.map(host));
        expect(members.filter((m) => m.isLearner)).toEqual([]);
        const got = await probe.all();
        expect(got.size, `${host(i)}: key count`).toBe(want.size);
        expect(got, host(i)).toEqual(want);
      } finally {
        probe.close();
      }
      expect(await shell.run(i, 'systemctl is-active etcd')).toBe('active');
    }
  }

  /** Nothing half-done on any member: no uploaded snapshot, no restored copy or failed swap left, the mount intact. */
  async function expectNothingHalfDone(asideCount: number) {
    for (const i of MEMBERS) {
      expect(await mounted(i), host(i)).toEqual(['mounted', 'tmpfs', dataDir]);
      const left = await shell.run(
        i,
        `ls -A /var/lib/kubesmith-restore 2>/dev/null; ls -A /var/lib/kubesmith-backup 2>/dev/null; cd ${dataDir} && ls -d kubesmith-restore-* kubesmith-failed-restore-* 2>/dev/null; true`,
      );
      expect(left, `${host(i)}: leftovers`).toBe('');
      const entries = (await shell.run(i, `ls -A ${dataDir}`)).split('\n').sort();
      expect(
        entries.filter((e) => !e.startsWith('kubesmith-before-restore-')),
        host(i),
      ).toEqual(['member']);
      expect(
        entries.filter((e) => e.startsWith('kubesmith-before-restore-')),
        host(i),
      ).toHaveLength(asideCount);
    }
    expect(existsSync(join(shell.clusterDir, '.lock')), 'cluster lock left behind').toBe(false);
  }

  /** The lines `  <host>:<aside>` of a restore's output: the old data kept inside the (mounted) data dir. */
  async function expectKeptAside(stdout: string) {
    const kept = [...stdout.matchAll(/^ {2}(\S+):(\S+)$/gm)];
    expect(kept.map((k) => k[1]).sort()).toEqual(MEMBERS.map(host));
    for (const i of MEMBERS) {
      const aside = kept.find((k) => k[1] === host(i))![2]!;
      expect(aside.startsWith(`${dataDir}/kubesmith-before-restore-`), aside).toBe(true);
      // Inside the mount (renamed there, not moved off it), holding the old member's snap and wal.
      expect(await shell.run(i, `findmnt -n -o TARGET -T ${aside}; ls ${aside}`)).toBe(
        `${dataDir}\nsnap\nwal`,
      );
    }
  }

  beforeAll(async () => {
    const started = Date.now();
    await kubesmith('lab', 'down', '--name', LAB);
    rmSync(shell.clusterDir, { recursive: true, force: true });
    const up = await kubesmith('lab', 'up', String(MEMBERS.length), '--name', LAB);
    if (up.exitCode !== 0) throw new Error(`lab up failed:\n${up.all}`);
    shell.learn(up.stdout);
    dataDir = (await loadInventory(join(shell.clusterDir, 'inventory.yaml'))).inventory.etcd.dataDir;
    // The data dir a mount point in every machine before etcd exists: a mount of the machine,
    // so it outlives every etcd restart.
    for (const i of MEMBERS) {
      await shell.run(
        i,
        `set -e; mkdir -p ${dataDir}; mountpoint -q ${dataDir} || mount -t tmpfs -o size=512m,mode=0700 tmpfs ${dataDir}`,
      );
      expect(await shell.run(i, `mountpoint -q ${dataDir} && echo yes`)).toBe('yes');
    }
    const setup = await kubesmith('setup', LAB, '02');
    if (setup.exitCode !== 0) throw new Error(`setup 02 failed:\n${setup.all}`);
    client = new EtcdHttp(pki(), `https://${shell.addresses[0]}:2379`);
    console.info(
      `lab up and setup 02 on a mounted ${dataDir}: ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  });

  afterAll(async () => {
    await writer?.stop();
    client?.close();
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('etcd runs on the mounted data dir, and the mount survives an etcd restart', async () => {
    for (const i of MEMBERS) expect(await mounted(i), host(i)).toEqual(['mounted', 'tmpfs', dataDir]);
    await shell.run(1, 'systemctl restart etcd');
    expect(await mounted(1)).toEqual(['mounted', 'tmpfs', dataDir]);
    expect(await shell.run(1, 'systemctl is-active etcd')).toBe('active');
  });

  it('backs up while the writer writes', async () => {
    await client!.putAll(
      Array.from({ length: 1000 }, (_, i): [string, string] => [
        `/drill/seed/${i}`,
        randomBytes(12).toString('hex'),
      ]),
    );
    writer = new Writer(client!);
    await writer.waitAcked('before-backup', 50);
    writer.phase = 'during-backup';
    const run = await kubesmith('backup', LAB, '--note', 'restore drill');
    expect(run.exitCode, run.all).toBe(0);
    writer.phase = 'after-backup';
    backupName = run.stdout.match(/^backup (\S+):/m)![1]!;
    const manifest = JSON.parse(
      readFileSync(join(shell.clusterDir, 'backups', backupName, 'manifest.json'), 'utf8'),
    );
    backupRevision = manifest.revision;
    await writer.waitAcked('after-backup', 50);
    // The backup's keys, as etcd itself holds them at the snapshot's revision.
    const probe = new EtcdProbe(`https://${shell.addresses[1]}:2379`);
    try {
      expected = await probe.all(backupRevision);
    } finally {
      probe.close();
    }
    expect(expected.size).toBe(manifest.keyCount);
    // The writer's view agrees: every write acknowledged at or before the backup's revision is in it, none after.
    const before = writer.acked.filter((w) => w.revision <= backupRevision);
    const after = writer.acked.filter((w) => w.revision > backupRevision);
    expect(before.length).toBeGreaterThanOrEqual(50);
    expect(after.length).toBeGreaterThanOrEqual(50);
    for (const w of before) expect(expected.get(w.key), w.key).toBe(w.value);
    for (const w of after) expect(expected.has(w.key), w.key).toBe(false);
    console.info(
      `backup ${backupName} at revision ${backupRevision} (${manifest.keyCount} keys) with the writer running: ${writer.ackedIn('during-backup')} writes during it, ${run.stdout.match(/in ([\d.]+)s/)?.[1]} s`,
    );
  });

  it('restores with the writer running until etcd stops: exactly the backup, on the mount, every member healthy', async () => {
    writer!.phase = 'during-restore';
    writer!.stopOnError = true;
    const started = Date.now();
    const run = await kubesmith('restore', LAB, 'latest', '--yes');
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    restoreRuns.push(run.all ?? '');
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain(`restored ${backupName}:`);
    expect(run.stdout).toMatch(/all members healthy/);
    // The writer saw etcd stop, and stopped by itself.
    await Promise.race([writer!.done, sleep(30_000)]);
    expect(writer!.stoppedBy).toMatch(/^etcd down/);
    expect(
      writer!.ackedIn('during-restore'),
      'writes during the restore before etcd stopped',
    ).toBeGreaterThan(0);
    const unit = await shell.run(
      0,
      "journalctl -u etcd -o short-precise --no-pager | grep -E 'Stopping|Stopped|Started' | tail -3 | cut -d' ' -f3,6-",
    );
    console.info(
      `restore: ${seconds} s, etcd down ${((writer!.stoppedAt - started) / 1000).toFixed(1)} s after it began; etcd on ${host(0)}:\n${unit}`,
    );
    console.info(
      `restore: ${seconds} s; writer: ${writer!.acked.length} writes acknowledged (${writer!.ackedIn('during-restore')} during the restore), stopped by ${writer!.stoppedBy}; errors: ${writer!.errors.length}`,
    );

    await expectKeptAside(run.stdout);
    await expectCluster(expected);
    // The writer's own record: before the backup there with its values; after it gone.
    const probe = new EtcdProbe(`https://${shell.addresses[2]}:2379`);
    try {
      const now = await probe.all();
      for (const w of writer!.acked)
        expect(now.get(w.key), `${w.key} (revision ${w.revision}, ${w.phase})`).toBe(
          w.revision <= backupRevision ? w.value : undefined,
        );
    } finally {
      probe.close();
    }
    await expectNothingHalfDone(1);
  });

  it('restores again (restartable): the same backup, writes since gone, nothing half-done, setup changes nothing', async () => {
    await client!.putAll(
      Array.from({ length: 100 }, (_, i): [string, string] => [`/drill/between/${i}`, 'x']),
    );
    const run = await kubesmith('restore', LAB, 'latest', '--yes');
    restoreRuns.push(run.all ?? '');
    expect(run.exitCode, run.all).toBe(0);
    // latest is still the user's backup, not a restore's safety snapshot.
    expect(run.stdout).toContain(`restored ${backupName}:`);
    await expectKeptAside(run.stdout);
    await expectCluster(expected);
    await expectNothingHalfDone(2);
    const again = await kubesmith('setup', LAB, '02');
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toContain('etcd healthy: 3 members');
    expect(again.stdout).toContain('0 change(s)');
    for (const i of MEMBERS) expect(await mounted(i), host(i)).toEqual(['mounted', 'tmpfs', dataDir]);
  });
});
