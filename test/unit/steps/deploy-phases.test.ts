import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/engine/events.js';
import { RunData, sharedWith } from '../../../src/engine/run-data.js';
import { type RunOptions, runPlaybook } from '../../../src/engine/runner.js';
import type { AnyStep, DeployStep, Step } from '../../../src/engine/step.js';
import { InputError } from '../../../src/errors.js';
import { type LoadedInventory, parseInventory } from '../../../src/inventory/load.js';
import { skipWithout } from '../../helpers/prerequisite.js';
import { sshdUnavailable, TestSshd } from '../../helpers/sshd.js';

const unavailable = skipWithout('deploy-machine phases against a real sshd', sshdUnavailable());
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

/** The phases of the day-2 commands: deploy-machine steps beside per-host steps, in one run. */
describe.skipIf(unavailable)('deploy-machine phases in the engine', () => {
  let sshd: TestSshd;
  let work: string;
  let loaded: LoadedInventory;

  beforeAll(async () => {
    sshd = await TestSshd.start(ADDRESSES);
    work = mkdtempSync(join(tmpdir(), 'ks-phases-'));
    const hosts = [
      ...ADDRESSES.map((a, i) => `  - { name: h${i + 1}, address: ${a}, roles: [etcd, master] }`),
      // Nothing listens there: connection refused.
      '  - { name: gone, address: 127.0.0.4, roles: [master] }',
    ].join('\n');
    const text = `cluster: { name: phases }\nssh: { port: ${sshd.port}, identityFile: ${sshd.clientKey}, concurrency: 3 }\nhosts:\n${hosts}\n`;
    loaded = await parseInventory(text, join(work, 'inventory.yaml'), { allowEvenEtcd: true });
  });
  afterAll(async () => {
    await sshd?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function run(steps: AnyStep[], data: RunData, extra: Partial<RunOptions> = {}) {
    const events: RunEvent[] = [];
    const summary = runPlaybook({
      command: 'test',
      loaded,
      clusterDir: work,
      knownHostsFile: join(work, 'known_hosts'),
      entries: steps.map((s) => ({ step: s.id, hosts: extra.only ? ('all' as const) : ('etcd' as const) })),
      registry: new Map(steps.map((s) => [s.id, s])),
      sink: (e) => events.push(e),
      shared: sharedWith(data),
      stopAtFailure: true,
      ...extra,
    });
    return { events, summary };
  }

  it('runs once with every host connection, hands data to per-host steps, one connection per host', async () => {
    const data = new RunData();
    const plan: DeployStep = {
      id: 'plan',
      title: 'plan',
      onDeployMachine: true,
      async run(ctx) {
        // Every host of the phase answers on the run's own connection.
        const names: string[] = [];
        for (const h of ctx.hosts)
          if ((await ctx.conn(h.name).run(['true'])).exitCode === 0) names.push(h.name);
        ctx.shared.set('order', names);
        ctx.log('planned');
        ctx.changed('h2');
      },
    };
    const act: Step = {
      id: 'act',
      title: 'act',
      async run(ctx) {
        expect(ctx.shared.get('order')).toEqual(['h1', 'h2', 'h3']);
      },
    };
    const { events, summary } = run([plan, act], data);
    const done = await summary;
    expect(done.failed).toBe(0);
    expect(events.filter((e) => e.type === 'connect')).toHaveLength(3);
    expect(events).toContainEqual({ type: 'run-log', message: 'plan: planned' });
    const planEnds = events.filter((e) => e.type === 'host-end' && e.step === 'plan');
    expect(planEnds.map((e) => e.type === 'host-end' && [e.host, e.status])).toEqual([
      ['h1', 'ok'],
      ['h2', 'changed'],
      ['h3', 'ok'],
    ]);
    expect(done.hosts.find((h) => h.host === 'h2')?.changed).toBe(1);
  });

  it('a refusal fails every host of the phase, keeps its type, and no later phase starts', async () => {
    const data = new RunData();
    const guard: DeployStep = {
      id: 'guard',
      title: 'guard',
      onDeployMachine: true,
      async run() {
        throw new InputError('refused: would break quorum');
      },
    };
    let acted = false;
    const act: Step = {
      id: 'act',
      title: 'act',
      async run() {
        acted = true;
      },
    };
    const { events, summary } = run([guard, act], data);
    const done = await summary;
    expect(done.failed).toBe(3);
    expect(done.hosts.every((h) => h.failedStep === 'guard')).toBe(true);
    expect(data.failures).toHaveLength(1);
    expect(data.failures[0]).toBeInstanceOf(InputError);
    expect(acted).toBe(false);
    expect(events.some((e) => e.type === 'step-start' && e.step === 'act')).toBe(false);
  });

  it('a failure of many lines is told once; each host carries its first line', async () => {
    const wait: DeployStep = {
      id: 'wait',
      title: 'wait',
      onDeployMachine: true,
      async run() {
        throw new Error(
          'DaemonSet x/y not ready after 1 s: 0 of 3 pods ready\n  y-1 (h1): CrashLoopBackOff\n  y-2 (h2): CrashLoopBackOff',
        );
      },
    };
    const { events, summary } = run([wait], new RunData());
    await summary;
    const told = events.filter((e) => e.type === 'run-log' && e.message.includes('CrashLoopBackOff'));
    expect(told).toHaveLength(1);
    const ends = events.filter((e) => e.type === 'host-end');
    expect(ends.length).toBeGreaterThan(1);
    for (const end of ends)
      expect(end.type === 'host-end' && end.error?.message).toBe(
        'DaemonSet x/y not ready after 1 s: 0 of 3 pods ready (details above)',
      );
  });

  it('a host that fails a per-host phase ends the run before the next phase (stopAtFailure)', async () => {
    const seen: string[] = [];
    const first: Step = {
      id: 'first',
      title: 'first',
      async run(ctx) {
        if (ctx.host.name === 'h3') throw new Error('h3 broke');
      },
    };
    const next: DeployStep = {
      id: 'next',
      title: 'next',
      onDeployMachine: true,
      async run(ctx) {
        seen.push(...ctx.hosts.map((h) => h.name));
      },
    };
    const done = await run([first, next], new RunData()).summary;
    expect(done.failed).toBe(1);
    expect(seen).toEqual([]);
  });

  it('verify runs only read-only deploy steps; they see hosts an earlier check failed and keep that first failure', async () => {
    const seen: string[] = [];
    const check: Step = {
      id: 'check',
      title: 'check',
      async run() {
        throw new Error('verify must not run a step');
      },
      async verify(ctx) {
        if (ctx.host.name === 'h2') throw new Error('h2 unhealthy');
      },
    };
    const changing: DeployStep = {
      id: 'changing',
      title: 'changing',
      onDeployMachine: true,
      async run() {
        throw new Error('verify must not run a changing deploy step');
      },
    };
    const report: DeployStep = {
      id: 'report',
      title: 'report',
      onDeployMachine: true,
      readOnly: true,
      async run(ctx) {
        seen.push(...ctx.hosts.map((h) => h.name));
        ctx.report({
          cluster: 'phases',
          checkedAt: new Date().toISOString(),
          ok: false,
          counts: { ok: 0, warn: 0, fail: 1 },
          checks: [],
        });
        throw new Error('1 check(s) failed');
      },
    };
    const { events, summary } = run([check, changing, report], new RunData(), {
      verifyOnly: true,
      stopAtFailure: false,
    });
    const done = await summary;
    expect(seen).toEqual(['h1', 'h2', 'h3']);
    expect(events.some((e) => e.type === 'step-start' && e.step === 'changing')).toBe(false);
    expect(events.filter((e) => e.type === 'verify-report')).toHaveLength(1);
    expect(done.hosts.find((h) => h.host === 'h2')).toMatchObject({ failedStep: 'check' });
    expect(done.hosts.find((h) => h.host === 'h1')).toMatchObject({ status: 'failed', failedStep: 'report' });
  });

  it('goes on without a named host that cannot be reached (del-etcd: the dead member it removes), and only that one', async () => {
    const seen: string[][] = [];
    const phase: DeployStep = {
      id: 'phase',
      title: 'phase',
      onDeployMachine: true,
      async run(ctx) {
        seen.push(ctx.hosts.map((h) => h.name));
      },
    };
    const only = ['h1', 'h2', 'gone'];
    const excused = run([phase], new RunData(), { only, mayBeUnreachable: ['gone'] });
    const done = await excused.summary;
    expect(done.failed).toBe(0);
    expect(done.hosts.find((h) => h.host === 'gone')).toMatchObject({
      status: 'skipped',
      failedStep: 'connect',
    });
    expect(seen).toEqual([['h1', 'h2']]);
    expect(excused.events).toContainEqual({
      type: 'run-log',
      message: 'going on without unreachable gone: no step runs there',
    });
    const strict = await run([phase], new RunData(), { only }).summary;
    expect(strict.hosts.find((h) => h.host === 'gone')).toMatchObject({
      status: 'failed',
      failedStep: 'connect',
    });
    expect(seen).toHaveLength(1);
  });
});
