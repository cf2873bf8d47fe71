import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { oneAtATime } from '../../src/engine/shared.js';
import type { Step } from '../../src/engine/step.js';
import { loadInventory } from '../../src/inventory/load.js';
import { skipWithout } from '../helpers/prerequisite.js';
import {
  E2E_HOME,
  kubesmith,
  labUnavailable,
  linkExists,
  mountsUnder,
  nspawnProcessesFor,
} from './harness.js';

const unavailable = skipWithout('lab e2e', labUnavailable());

const LAB = 'e2e';
const labDir = join(E2E_HOME, 'labs', LAB);

describe.skipIf(unavailable)('kubesmith lab on real nspawn machines', () => {
  beforeAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });
  afterAll(async () => {
    await kubesmith('lab', 'down', '--name', LAB);
  });

  it('lab up 3, then check reports three reachable hosts with distinct identities', async () => {
    const up = await kubesmith('lab', 'up', '3', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    const inventory = readFileSync(join(E2E_HOME, 'clusters', LAB, 'inventory.yaml'), 'utf8');
    expect(inventory).toContain('hostKeyPolicy: strict');

    const check = await kubesmith('check', LAB);
    expect(check.exitCode, check.all).toBe(0);
    expect(check.stdout.match(/ ready /g)).toHaveLength(3);

    const json = await kubesmith('check', LAB, '--output', 'json');
    const report = JSON.parse(json.stdout) as {
      facts: Record<string, { productUuid: string; macs: string[]; container: string }>;
    };
    const facts = Object.values(report.facts);
    expect(facts).toHaveLength(3);
    expect(new Set(facts.map((f) => f.productUuid)).size).toBe(3);
    expect(new Set(facts.flatMap((f) => f.macs)).size).toBe(facts.flatMap((f) => f.macs).length);
    expect(facts.every((f) => f.container === 'systemd-nspawn')).toBe(true);
  });

  it('a second lab up with the same count changes nothing', async () => {
    const again = await kubesmith('lab', 'up', '3', '--name', LAB);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toContain('nothing changed');
  });

  it('lab up 5 adds two machines as nodes', async () => {
    const up = await kubesmith('lab', 'up', '5', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    expect(up.stdout.match(/started/g)).toHaveLength(2);
    const check = await kubesmith('check', LAB);
    expect(check.exitCode, check.all).toBe(0);
    expect(check.stdout.match(/ ready /g)).toHaveLength(5);
  });

  it('reboots hosts one at a time through the engine: each comes back with a new boot id', async () => {
    const loaded = await loadInventory(join(E2E_HOME, 'clusters', LAB, 'inventory.yaml'));
    const bootIds = new Map<string, string[]>();
    const rolling: Step = {
      id: 'rolling-reboot',
      title: 'reboot every host, one at a time',
      async run(ctx) {
        const read = async () => (await ctx.read(['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
        const before = await read();
        await oneAtATime(ctx.shared, 'reboot', ctx.host.name, () => ctx.reboot({ timeoutMs: 60_000 }));
        bootIds.set(ctx.host.name, [before, await read()]);
      },
    };
    const logs: { host: string; message: string; at: number }[] = [];
    const summary = await runPlaybook({
      command: 'test',
      loaded,
      clusterDir: join(E2E_HOME, 'clusters', LAB),
      knownHostsFile: join(E2E_HOME, 'clusters', LAB, 'known_hosts'),
      entries: [{ step: rolling.id, hosts: 'all' }],
      registry: new Map([[rolling.id, rolling]]),
      sink: (e: RunEvent) => {
        if (e.type === 'host-log') logs.push({ host: e.host, message: e.message, at: Date.now() });
      },
    });
    expect(
      summary.hosts.every((h) => h.status === 'changed'),
      JSON.stringify(summary),
    ).toBe(true);
    expect(bootIds.size).toBe(5);
    for (const [before, after] of bootIds.values()) expect(after).not.toBe(before);
    // Down windows (from 'rebooting' to 'back after') never overlap.
    const windows = [...bootIds.keys()]
      .map((host) => {
        const mine = logs.filter((l) => l.host === host);
        const down = mine.find((l) => l.message === 'rebooting')!.at;
        return [down, mine.find((l) => l.message.startsWith('back after'))!.at] as const;
      })
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < windows.length; i++)
      expect(windows[i]![0]).toBeGreaterThanOrEqual(windows[i - 1]![1]);
  });

  it('recovers from a killed machine and a leftover mount', async () => {
    // The supervisor and its systemd-nspawn, both killed: what an OOM kill or a kill -9 leaves.
    const pids = await nspawnProcessesFor(join(labDir, 'machines', `${LAB}-2`));
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const status = await kubesmith('lab', 'status', '--name', LAB);
    expect(status.stdout).toMatch(new RegExp(`${LAB}-2 .* stopped`));
    const up = await kubesmith('lab', 'up', '5', '--name', LAB);
    expect(up.exitCode, up.all).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`${LAB}-2 .* started`));
    const check = await kubesmith('check', LAB);
    expect(check.exitCode, check.all).toBe(0);
    expect(check.stdout.match(/ ready /g)).toHaveLength(5);
  });

  it('lab down leaves no mounts, bridge or processes behind', async () => {
    const down = await kubesmith('lab', 'down', '--name', LAB);
    expect(down.exitCode, down.all).toBe(0);
    expect(mountsUnder(labDir)).toEqual([]);
    expect(await linkExists(`ks-${LAB}`)).toBe(false);
    for (let i = 1; i <= 5; i++) expect(await linkExists(`vb-${LAB}-${i}`)).toBe(false);
    expect(await nspawnProcessesFor(labDir)).toEqual([]);
  });
});
