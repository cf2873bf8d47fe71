import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyResources, SECRET_DIFFERS } from '../../../src/engine/apply.js';
import { PENDING_DIR } from '../../../src/engine/pending.js';
import type { Resource } from '../../../src/engine/resources.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';
import { SshConnection } from '../../../src/transport/ssh.js';
import { FakeSystemd } from '../../helpers/fake-systemd.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { sshdUnavailable, TestSshd } from '../../helpers/sshd.js';

const unavailable = skipWithout('service restart tests against a real sshd', sshdUnavailable());

describe.skipIf(unavailable)('services: restarts are never lost, guarded, and secrets never diffed', () => {
  let sshd: TestSshd;
  let systemd: FakeSystemd;
  let conn: SshConnection;
  let dir: string;
  let unit: string;
  let service: string;
  let seq = 0;

  beforeAll(async () => {
    systemd = new FakeSystemd(mkdtempSync(join(tmpdir(), 'ks-systemd-')));
    sshd = await TestSshd.start(['127.0.0.1'], { pathFirst: [systemd.binDir] });
    conn = await SshConnection.open({
      name: 'services-host',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      identityFile: sshd.clientKey,
      hostKeyPolicy: 'accept-new',
      knownHosts: new KnownHosts(join(sshd.dir, 'known_hosts')),
      connectTimeoutMs: 5000,
    });
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.destroy();
    rmSync(systemd.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    // A unit name of its own per test: the pending markers live in the real /var/lib/kubesmith.
    service = `kubesmith-test-${process.pid}-${++seq}`;
    unit = `${service}.service`;
    dir = mkdtempSync(join(tmpdir(), 'ks-services-'));
    systemd.clearCalls();
  });

  const config = () => join(dir, 'app.conf');
  const wanted = (value: string, extra: Resource[] = []): Resource[] => [
    { kind: 'file', path: config(), content: `value = ${value}\n` },
    ...extra,
    { kind: 'service', name: service, state: 'started', restartOn: [config()] },
  ];
  const counted = async (resources: Resource[]) => {
    const before = conn.stats.commands;
    const results = await applyResources(conn, resources, { dryRun: false });
    return { results, commands: conn.stats.commands - before };
  };

  it('restarts a service whose input changed, and a warm re-run is one probe', async () => {
    systemd.setActive(unit, true);
    await counted(wanted('1'));
    systemd.clearCalls();
    const changed = await counted(wanted('2'));
    expect(changed.results.at(-1)).toMatchObject({ status: 'changed', detail: 'restart' });
    expect(systemd.calls()).toContain(`restart ${unit}`);
    expect(existsSync(join(PENDING_DIR, unit))).toBe(false);
    const warm = await counted(wanted('2'));
    expect(warm.commands).toBe(1);
    expect(warm.results.every((r) => r.status === 'ok')).toBe(true);
  });

  it('a config the service reloads is a reload, not a restart; its unit file still a restart', async () => {
    systemd.setActive(unit, true);
    const dropIn = join(dir, 'drop-in.conf');
    const reloading = (value: string, unitText: string): Resource[] => [
      { kind: 'file', path: config(), content: `value = ${value}\n` },
      { kind: 'file', path: dropIn, content: unitText },
      { kind: 'service', name: service, state: 'started', restartOn: [dropIn], reloadOn: [config()] },
    ];
    await counted(reloading('1', 'a'));
    systemd.clearCalls();
    const reloaded = await counted(reloading('2', 'a'));
    expect(reloaded.results.at(-1)).toMatchObject({ status: 'changed', detail: 'reload' });
    expect(systemd.calls()).toContain(`reload ${unit}`);
    expect(systemd.calls()).not.toContain(`restart ${unit}`);
    systemd.clearCalls();
    const both = await counted(reloading('3', 'b'));
    expect(both.results.at(-1)).toMatchObject({ status: 'changed', detail: 'restart' });
    expect(systemd.calls()).not.toContain(`reload ${unit}`);
  });

  it('a restart lost after the files were installed is done by the next run (0 files changed)', async () => {
    systemd.setActive(unit, true);
    await counted(wanted('1'));
    systemd.clearCalls();
    // The run dies between installing the file and restarting: here a command in between fails.
    const failing: Resource = { kind: 'command', title: 'check', argv: ['false'], onChangeOf: [config()] };
    await expect(counted(wanted('2', [failing]))).rejects.toThrow(/exited 1/);
    expect(readFileSync(config(), 'utf8')).toBe('value = 2\n');
    expect(systemd.calls().filter((c) => c.startsWith('restart'))).toEqual([]);
    expect(existsSync(join(PENDING_DIR, unit))).toBe(true);

    const next = await counted(wanted('2'));
    expect(next.results[0]).toMatchObject({ target: config(), status: 'ok' });
    expect(next.results.at(-1)).toMatchObject({ kind: 'service', status: 'changed' });
    expect(next.results.at(-1)?.detail).toMatch(/^restart \(owed by an earlier run/);
    expect(systemd.calls()).toContain(`restart ${unit}`);
    expect(existsSync(join(PENDING_DIR, unit))).toBe(false);
    // Once done, it is not done again.
    expect(await counted(wanted('2'))).toMatchObject({ commands: 1 });
  });

  it('a restart that fails stays owed', async () => {
    systemd.setActive(unit, true);
    await counted(wanted('1'));
    systemd.setFailing(unit, true);
    await expect(counted(wanted('2'))).rejects.toThrow(/Job for/);
    systemd.setFailing(unit, false);
    const next = await counted(wanted('2'));
    expect(next.results.at(-1)).toMatchObject({ status: 'changed' });
    expect(existsSync(join(PENDING_DIR, unit))).toBe(false);
  });

  it('a changed unit file owes a daemon-reload until it is done', async () => {
    // Unit files live under /etc/systemd: use a throwaway drop-in directory there.
    const dropIn = `/etc/systemd/system/${unit}.d/kubesmith-test.conf`;
    try {
      systemd.setActive(unit, true);
      const withUnit = (v: string, extra: Resource[] = []): Resource[] => [
        { kind: 'file', path: dropIn, content: `[Service]\nEnvironment=V=${v}\n` },
        ...extra,
        { kind: 'service', name: service, state: 'started', restartOn: [dropIn] },
      ];
      await counted(withUnit('1'));
      expect(systemd.calls()).toContain('daemon-reload');
      systemd.clearCalls();
      const failing: Resource = { kind: 'command', title: 'check', argv: ['false'], onChangeOf: [dropIn] };
      await expect(counted(withUnit('2', [failing]))).rejects.toThrow(/exited 1/);
      expect(systemd.calls()).not.toContain('daemon-reload');
      expect(existsSync(join(PENDING_DIR, 'daemon-reload'))).toBe(true);
      systemd.clearCalls();
      await counted(withUnit('2'));
      expect(systemd.calls()).toEqual(expect.arrayContaining(['daemon-reload', `restart ${unit}`]));
      expect(systemd.calls().indexOf('daemon-reload')).toBeLessThan(
        systemd.calls().indexOf(`restart ${unit}`),
      );
      expect(existsSync(join(PENDING_DIR, 'daemon-reload'))).toBe(false);
    } finally {
      rmSync(`/etc/systemd/system/${unit}.d`, { recursive: true, force: true });
    }
  });

  it('beforeRestart refuses a restart before any file changes', async () => {
    systemd.setActive(unit, true);
    await counted(wanted('1'));
    systemd.clearCalls();
    const guarded = wanted('2');
    const last = guarded.at(-1) as Extract<Resource, { kind: 'service' }>;
    let asked = 0;
    last.beforeRestart = async () => {
      asked++;
      throw new Error('other members are not healthy');
    };
    await expect(counted(guarded)).rejects.toThrow('other members are not healthy');
    expect(asked).toBe(1);
    expect(readFileSync(config(), 'utf8')).toBe('value = 1\n');
    expect(systemd.calls().filter((c) => c.startsWith('restart'))).toEqual([]);
    expect(existsSync(join(PENDING_DIR, unit))).toBe(false);
    // Not asked when the service only needs a start, nor in a warm run.
    last.beforeRestart = async () => {
      asked++;
    };
    systemd.setActive(unit, false);
    await counted(guarded);
    await counted(guarded);
    expect(asked).toBe(1);
  });

  it('dry-run never shows the content of a secret file, only that it differs', async () => {
    const key = join(dir, 'server.key');
    const token = join(dir, 'token');
    writeFileSync(key, 'OLD-PRIVATE-KEY\n', { mode: 0o600 });
    writeFileSync(token, 'OLD-TOKEN\n', { mode: 0o644 });
    const plain = join(dir, 'plain.conf');
    writeFileSync(plain, 'a = 1\n');
    const results = await applyResources(
      conn,
      [
        { kind: 'file', path: key, content: 'NEW-PRIVATE-KEY\n', mode: 0o600 },
        { kind: 'file', path: join(dir, 'ro.key'), content: 'X\n', mode: 0o400 },
        { kind: 'file', path: token, content: 'NEW-TOKEN\n', secret: true },
        { kind: 'file', path: plain, content: 'a = 2\n' },
      ],
      { dryRun: true },
    );
    expect(results[0]).toMatchObject({ status: 'changed', detail: SECRET_DIFFERS });
    expect(results[0]?.diff).toBeUndefined();
    expect(results[2]).toMatchObject({ status: 'changed', detail: SECRET_DIFFERS });
    expect(results[2]?.diff).toBeUndefined();
    const text = JSON.stringify(results);
    for (const secret of ['OLD-PRIVATE-KEY', 'NEW-PRIVATE-KEY', 'OLD-TOKEN', 'NEW-TOKEN'])
      expect(text).not.toContain(secret);
    expect(results[3]?.diff).toMatch(/-a = 1\n\+a = 2/);
    expect(readFileSync(key, 'utf8')).toBe('OLD-PRIVATE-KEY\n');
  });
});
