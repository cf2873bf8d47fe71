import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../helpers/prerequisite.js';
import { inMachine, kubesmith, labMachineRoot, labShell, labUnavailable } from './harness.js';

/**
 * Fault drill (issue 12): ten lab machines, two workers unreachable at the start (one with its
 * sshd stopped: refused; one powered off: no answer). setup refuses before any change and names
 * both; `--skip-unreachable` lets the others proceed and names the two as skipped, but never
 * skips an etcd member or a master; once they are back, a plain run brings them in.
 */
const unavailable = skipWithout('fault drills', labUnavailable());

const LAB = 'e2e-drill-ten';
const COUNT = 10;
const shell = labShell(LAB);
const all = [...Array(COUNT).keys()];
const host = (i: number) => `${LAB}-${i + 1}`;
const root = (i: number) => labMachineRoot(LAB, i);
/** Written by step 01 on every host. */
const SYSCTLS = '/etc/sysctl.d/95-kubesmith.conf';
const prepared = (i: number) => existsSync(join(root(i), SYSCTLS));
/** Workers (lab machines 4-10 are role node only). */
const REFUSING = 8;
const OFF = 9;
const ETCD = 2;

/** A host's row of the summary table: status, changed, failed at, error (empty cells are trimmed off the end). */
const row = (stdout: string, i: number) =>
  stdout.match(new RegExp(`^${host(i)} +(\\S+) +(\\d+)(?: +(\\S+))?(?: +(.*))?$`, 'm'));

describe.skipIf(unavailable)('fault drill: ten machines, two workers unreachable', () => {
  beforeAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
    rmSync(shell.clusterDir, { recursive: true, force: true });
    const up = await kubesmith('lab', 'up', String(COUNT), '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    shell.learn(up.stdout);
    await shell.run(REFUSING, 'systemctl stop ssh');
    await shell.run(OFF, 'systemctl poweroff').catch(() => undefined);
  });
  afterAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('setup refuses before any change, naming both (exit 3)', async () => {
    const run = await kubesmith('setup', LAB, '01');
    expect(run.exitCode, run.all).toBe(3);
    for (const i of [REFUSING, OFF])
      expect(row(run.stdout, i)?.slice(1, 4), host(i)).toEqual(['failed', '0', 'connect']);
    expect(row(run.stdout, REFUSING)?.[4]).toMatch(/refused/);
    expect(run.stdout).not.toMatch(/^== /m);
    for (const i of all) expect(prepared(i), host(i)).toBe(false);
  });

  it('--skip-unreachable: the eight others are prepared, the summary names the two as skipped (exit 0)', async () => {
    const run = await kubesmith('setup', LAB, '01', '--skip-unreachable');
    expect(run.exitCode, run.all).toBe(0);
    for (const i of [REFUSING, OFF]) {
      expect(row(run.stdout, i)?.slice(1, 4), host(i)).toEqual(['skipped', '0', 'connect']);
      expect(row(run.stdout, i)?.[4]).toMatch(/^unreachable, skipped \(--skip-unreachable\): /);
    }
    expect(run.stdout).toContain(`skipping unreachable worker(s) ${host(REFUSING)}, ${host(OFF)}`);
    expect(run.stdout).toContain(`${COUNT} host(s),`);
    expect(run.stdout).toMatch(/, 0 failed/);
    for (const i of all.filter((i) => i !== REFUSING && i !== OFF)) {
      expect(row(run.stdout, i)?.[1], host(i)).toBe('changed');
      expect(prepared(i), host(i)).toBe(true);
    }
    expect(prepared(REFUSING)).toBe(false);
  });

  it('--skip-unreachable never skips an etcd member or master: refused before any change, saying why', async () => {
    await shell.run(ETCD, 'systemctl stop ssh');
    try {
      const before = await shell.run(0, `stat -c %Y ${SYSCTLS}`);
      const run = await kubesmith('setup', LAB, '01', '--skip-unreachable');
      expect(run.exitCode, run.all).toBe(3);
      expect(row(run.stdout, ETCD)?.slice(1, 4)).toEqual(['failed', '0', 'connect']);
      expect(run.stdout).toContain(
        'not skipped: it is etcd and master (--skip-unreachable skips only hosts whose only role is node)',
      );
      for (const i of [REFUSING, OFF]) expect(row(run.stdout, i)?.[1], host(i)).toBe('failed');
      expect(run.stdout).not.toMatch(/^== /m);
      expect(await shell.run(0, `stat -c %Y ${SYSCTLS}`)).toBe(before);
    } finally {
      await inMachine(root(ETCD), ['systemctl', 'start', 'ssh']);
    }
  });

  it('once both are back, a plain run brings them in and the cluster converges', async () => {
    await inMachine(root(REFUSING), ['systemctl', 'start', 'ssh']);
    const up = await kubesmith('lab', 'up', String(COUNT), '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    const run = await kubesmith('setup', LAB, '01');
    expect(run.exitCode, run.all).toBe(0);
    for (const i of [REFUSING, OFF]) {
      expect(row(run.stdout, i)?.[1], host(i)).toBe('changed');
      expect(prepared(i), host(i)).toBe(true);
    }
    const again = await kubesmith('setup', LAB, '01');
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toContain(`${COUNT} host(s), 0 change(s), 0 failed`);
  });
});
