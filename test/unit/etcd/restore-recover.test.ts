import { describe, expect, it } from 'vitest';
import type { Backup } from '../../../src/etcd/backups.js';
import { dirsOf, swapBackScript, swapInScript } from '../../../src/etcd/data-swap.js';
import { replaceData } from '../../../src/etcd/restore-data.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import type { SshConnection } from '../../../src/transport/ssh.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'r' },
  hosts: ['m1', 'm2', 'm3'].map((name, i) => ({
    name,
    address: `10.0.0.${i + 1}`,
    roles: ['etcd', 'master'],
  })),
});
const SHA = 'a'.repeat(64);
const STAMP = '20261129T000000Z';
const dirs = dirsOf(inventory);

/**
 * A stand-in for the SSH connections (the boundary this test cannot reach): records every
 * command per host and fails the scripts named in `fails`.
 */
function hosts(fails: Record<string, string[]>) {
  const commands: Record<string, string[]> = { m1: [], m2: [], m3: [] };
  const conn = (host: string) =>
    ({
      async run(argv: readonly string[]) {
        const text = argv.join(' ');
        commands[host]!.push(text);
        if (fails[host]?.some((script) => argv.includes(script))) throw new Error(`${host}: script failed`);
        return { stdout: argv[0] === 'sha256sum' ? `${SHA}  snapshot.db` : '', stderr: '', exitCode: 0 };
      },
      async exec() {
        return { stdout: '', stderr: '', exitCode: 0 };
      },
      async upload() {
        return undefined;
      },
    }) as unknown as SshConnection;
  return { commands, conn };
}

const backup = {
  dir: '/nowhere',
  name: 'b',
  manifest: { snapshot: { file: 'snapshot.db', sha256: SHA } },
} as unknown as Backup;

function replace(fails: Record<string, string[]>) {
  const { commands, conn } = hosts(fails);
  const done = replaceData({
    inventory,
    members: inventory.hosts,
    conn,
    backup,
    stamp: STAMP,
    toolVersion: '3.6.16',
    signal: new AbortController().signal,
    say: () => undefined,
    changed: () => undefined,
  });
  return { commands, done };
}

const started = (commands: string[]) =>
  commands.filter((c) => c.includes('systemctl start --no-block etcd')).length;

describe('restore puts the old data back and keeps the cluster serving where it can', () => {
  it('a member whose old data cannot be put back stays stopped; the majority that got it back serves again', async () => {
    const { commands, done } = replace({
      m2: [swapInScript(dirs, STAMP)],
      m3: [swapBackScript(dirs, STAMP)],
    });
    await expect(done).rejects.toThrow(/2 member\(s\) with their old data back were started again/);
    expect(started(commands.m1!)).toBe(1);
    expect(started(commands.m2!)).toBe(1);
    expect(started(commands.m3!)).toBe(0);
  });

  it('without a majority of old data back, etcd stays stopped everywhere', async () => {
    const back = swapBackScript(dirs, STAMP);
    const { commands, done } = replace({ m1: [swapInScript(dirs, STAMP)], m2: [back], m3: [back] });
    await expect(done).rejects.toThrow(/too few members have their old data back for a quorum/);
    for (const host of ['m1', 'm2', 'm3']) expect(started(commands[host]!)).toBe(0);
  });
});
