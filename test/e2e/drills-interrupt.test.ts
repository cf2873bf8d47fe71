import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../helpers/prerequisite.js';
import {
  cutSshSessions,
  kubesmith,
  kubesmithProcess,
  labMachineRoot,
  labShell,
  labUnavailable,
  pendingRestarts,
  stagedLeftovers,
  waitFor,
} from './harness.js';

/**
 * Fault drills (issue 12): a setup 03 interrupted while it installs files — the host's SSH
 * sessions cut, the host rebooted, the deploy process SIGKILLed — fails naming the host, and
 * the next run converges: no half-written file left, no restart lost, no stale lock.
 */
const unavailable = skipWithout('fault drills', labUnavailable());

const LAB = 'e2e-drill-int';
const shell = labShell(LAB);
const roots = [0, 1, 2].map((i) => labMachineRoot(LAB, i));
const host = (i: number) => `${LAB}-${i + 1}`;
/** Where step 03 installs files (binaries, CNI plugins, image archives, configs). */
const IMAGES = '/var/lib/kubesmith/images';
const CONTAINERD = '/opt/kube/bin/containerd';

const jsonEvents = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

/** The first staged copy on a machine that already holds some bytes: an upload in progress. */
async function uploadInProgress(root: string): Promise<string | undefined> {
  for (const path of await stagedLeftovers(root)) {
    try {
      if (statSync(join(root, path)).size > 1 << 20) return path;
    } catch {
      // moved into place meanwhile
    }
  }
  return undefined;
}

/** Seconds since the epoch when containerd last became active, and the newest mtime of its restart inputs. */
async function containerdStartAndInputs(i: number): Promise<{ started: number; newestInput: number }> {
  const out = await shell.run(
    i,
    'date -d "$(systemctl show -p ActiveEnterTimestamp --value containerd)" +%s; stat -c %Y /opt/kube/bin/containerd /opt/kube/bin/containerd-shim-runc-v2 /etc/containerd/config.toml /etc/systemd/system/containerd.service | sort -n | tail -1',
  );
  const [started, newestInput] = out.split('\n').map(Number);
  return { started: started!, newestInput: newestInput! };
}

/** Nothing half-done, nothing lost: no staged copy anywhere, no restart owed, containerd runs what is installed, a re-run changes nothing. */
async function expectConverged() {
  for (const i of [0, 1, 2]) {
    expect(await stagedLeftovers(roots[i]!), host(i)).toEqual([]);
    expect(pendingRestarts(roots[i]!), host(i)).toEqual([]);
    expect(await shell.run(i, 'systemctl is-active containerd')).toBe('active');
    const { started, newestInput } = await containerdStartAndInputs(i);
    expect(started, `${host(i)}: containerd started before its inputs last changed`).toBeGreaterThanOrEqual(
      newestInput,
    );
  }
  const again = await kubesmith('setup', LAB, '03', '--output', 'json');
  expect(again.exitCode, again.all).toBe(0);
  expect(jsonEvents(again.stdout).find((e) => e.type === 'run-end').summary.changed).toBe(0);
}

/** A run that failed on exactly this host (named in the summary), the others finished. */
function expectFailedOn(run: { exitCode?: number; stdout: string; all?: string }, index: number) {
  expect(run.exitCode, run.all).toBe(1);
  expect(run.stdout).toMatch(new RegExp(`^${host(index)} +failed +\\d+ +(runtime|images) +`, 'm'));
  for (const other of [0, 1, 2].filter((i) => i !== index))
    expect(run.stdout).not.toMatch(new RegExp(`^${host(other)} +failed`, 'm'));
}

describe.skipIf(unavailable)('fault drills: setup 03 interrupted mid-install (three lab machines)', () => {
  beforeAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
    rmSync(shell.clusterDir, { recursive: true, force: true });
    const up = await kubesmith('lab', 'up', '3', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    shell.learn(up.stdout);
    const prepare = await kubesmith('setup', LAB, '01');
    expect(prepare.exitCode, prepare.all).toBe(0);
  });
  afterAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('SSH sessions cut while binaries and image archives stream: the run names the host, the next converges', async () => {
    const run = kubesmith('setup', LAB, '03');
    const staged = await waitFor(
      'an upload in progress on host 2',
      () => uploadInProgress(roots[1]!),
      180_000,
    );
    expect(cutSshSessions(roots[1]!)).toBeGreaterThan(0);
    const failed = await run;
    expectFailedOn(failed, 1);
    expect(failed.stdout).toContain(`${host(1)}: connection lost`);
    // The drill hit an upload (a staged copy was being written). A compressed upload removes its
    // partial copy when the stream is cut; whatever is left is a staged name, never the file itself.
    expect(staged).toMatch(/\.kubesmith-[0-9a-f]+$/);
    for (const left of await stagedLeftovers(roots[1]!)) expect(left).toMatch(/\.kubesmith-[0-9a-f]+$/);

    const next = await kubesmith('setup', LAB, '03');
    expect(next.exitCode, next.all).toBe(0);
    await expectConverged();
  });

  // Skipped: uploads are now checked as they are staged, so the install script moves containerd
  // and restarts it at once: the window this drill cut into is gone, and it needs a new way in
  // (a slowed restart). The property itself (a restart owed across a cut is done by the next run)
  // stays covered against a real sshd in test/unit/engine/services.test.ts.
  it.skip('SSH sessions cut after containerd was replaced but before its restart: the next run does the owed restart', async () => {
    // containerd, its shim and the CNI plugins to install again: the install script verifies the
    // others after containerd moves into place, so the cut lands before the restart.
    await shell.run(
      1,
      `rm -f ${CONTAINERD} /opt/kube/bin/containerd-shim-runc-v2 /opt/kube/bin/runc /opt/cni/bin/*`,
    );
    const run = kubesmith('setup', LAB, '03');
    await waitFor(
      'containerd moved into place on host 2',
      () => existsSync(join(roots[1]!, CONTAINERD)),
      180_000,
      1,
    );
    cutSshSessions(roots[1]!);
    const failed = await run;
    expectFailedOn(failed, 1);
    // The restart was owed when the connection went: recorded on the host, not done.
    expect(pendingRestarts(roots[1]!)).toContain('containerd.service');
    const lost = await containerdStartAndInputs(1);
    expect(lost.started).toBeLessThan(lost.newestInput);

    const next = await kubesmith('setup', LAB, '03', '--output', 'json');
    expect(next.exitCode, next.all).toBe(0);
    const restart = jsonEvents(next.stdout).find(
      (e) => e.type === 'action' && e.host === host(1) && e.result.target === 'containerd',
    );
    expect(restart?.result.detail).toMatch(/restart/);
    await expectConverged();
  });

  it('a host rebooted while files stream: the run names it, the next converges once it is back', async () => {
    await shell.run(1, `rm -f ${IMAGES}/* ${CONTAINERD}`);
    const run = kubesmith('setup', LAB, '03');
    await waitFor('an upload in progress on host 2', () => uploadInProgress(roots[1]!), 180_000);
    await shell.run(1, 'systemctl reboot').catch(() => undefined);
    const failed = await run;
    expectFailedOn(failed, 1);
    await waitFor(
      'host 2 back after its reboot',
      () =>
        shell.run(1, 'systemctl is-system-running --wait >/dev/null; echo up').then(
          (out) => out === 'up',
          () => false,
        ),
      120_000,
      1000,
    );
    const next = await kubesmith('setup', LAB, '03');
    expect(next.exitCode, next.all).toBe(0);
    await expectConverged();
  });

  it('the deploy process SIGKILLed mid-apply: its lock does not block the next run, which converges', async () => {
    for (const i of [0, 1, 2]) await shell.run(i, `rm -f ${CONTAINERD} /opt/cni/bin/*`);
    const run = kubesmithProcess('setup', LAB, '03');
    await waitFor(
      'containerd moved into place on a host',
      () => roots.some((root) => existsSync(join(root, CONTAINERD))),
      180_000,
      1,
    );
    run.kill('SIGKILL');
    const killed = await run;
    expect(killed.signal).toBe('SIGKILL');
    const lock = JSON.parse(readFileSync(join(shell.clusterDir, '.lock'), 'utf8'));
    expect(lock.pid).toBe(run.pid);
    expect(lock.command).toBe('setup 03');

    const next = await kubesmith('setup', LAB, '03');
    expect(next.exitCode, next.all).toBe(0);
    expect(next.stderr).toContain("note: took over a stale lock of 'setup 03'");
    expect(existsSync(join(shell.clusterDir, '.lock'))).toBe(false);
    await expectConverged();
  });
});
