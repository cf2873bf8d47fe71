import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The day-2 etcd commands run their playbooks through the engine: the same connect-first refusal, exit codes and run log as setup. */
describe('backup, restore, add-etcd, del-etcd as playbooks', () => {
  let dir: string;
  let inventory: string;
  const cli = (...args: string[]) =>
    execa('node', ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], {
      reject: false,
      env: { KUBESMITH_HOME: dir, CI: 'true' },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-day2-'));
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    inventory = join(dir, 'inventory.yaml');
    writeFileSync(
      inventory,
      readFileSync(join(ROOT, 'test', 'fixtures', 'inventories', 'good', 'unreachable.yaml'), 'utf8')
        .replace('../keys/id_test', join(dir, 'key'))
        .concat('  - { name: m2, address: 127.0.0.2, roles: [node], ssh: { port: 1 } }\n'),
    );
  });

  it('add-etcd: an unreachable member stops the run before any phase, exit 3, with a run log', async () => {
    const run = await cli('add-etcd', '-i', inventory, 'unreachable', 'm1');
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/m1 +failed +0 +connect +m1 \(127\.0\.0\.1:1\): connection refused/);
    expect(run.stderr).toMatch(/^log: .*-add-etcd\.log$/m);
    // m2 is no etcd member: not connected.
    expect(run.stderr).not.toMatch(/^m2 /m);
    expect(run.stdout).toBe('');
  });

  it('backup goes on without unreachable members, and exits 3 when none is left', async () => {
    const run = await cli('backup', '-i', inventory);
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toContain('going on without unreachable m1');
    expect(run.stderr).toMatch(
      /m1 +skipped +0 +connect +unreachable, left out: m1 \(127\.0\.0\.1:1\): connection refused/,
    );
    expect(run.stderr).toContain('error: cannot take a snapshot: no etcd member could be reached over SSH');
    expect(run.stdout).toBe('');
  });

  it('del-etcd refuses to remove the last member before connecting to any host (exit 2)', async () => {
    const run = await cli('del-etcd', '-i', inventory, 'unreachable', 'm1', '--yes');
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('it would leave no etcd member');
    expect(run.stderr).not.toContain('connect');
  });

  it('restore refuses a missing backup under the lock, before connecting to any host (exit 2)', async () => {
    const run = await cli('restore', '-i', inventory, 'unreachable', 'no-such-backup', '--yes');
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("no backup 'no-such-backup'");
    expect(run.stderr).not.toContain('connect');
  });

  it('-o json: the events as JSON lines on stdout', async () => {
    const run = await cli('add-etcd', '-i', inventory, 'unreachable', 'm1', '-o', 'json');
    expect(run.exitCode).toBe(3);
    const events = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({
      type: 'run-start',
      command: 'add-etcd m1',
      steps: [{ id: 'etcd-join-plan' }, { id: 'etcd-snapshot' }, { id: 'etcd-join' }, { id: 'etcd' }],
    });
    expect(events.at(-1)).toMatchObject({ type: 'run-end', ok: false });
  });
});
