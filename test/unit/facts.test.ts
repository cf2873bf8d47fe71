import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACTS_SCRIPT, listeningPorts, parseFacts } from '../../src/facts.js';

/** A machine's output recorded with the old `@@name` markers, re-marked as FACTS_SCRIPT marks it now. */
const legacy = readFileSync(
  join(import.meta.dirname, '..', 'fixtures', 'facts', 'debian12-nspawn.txt'),
  'utf8',
);
const nonce = FACTS_SCRIPT.match(/@@([0-9a-f]+):/)![1]!;
const recorded = legacy.replace(/^@@(\w+)$/gm, `\n@@${nonce}:$1`);
const remoteMs = Number(BigInt(legacy.split('@@time\n')[1]!.trim()) / 1_000_000n);

describe('facts from a recorded Debian 12 lab machine', () => {
  const facts = parseFacts(recorded, remoteMs - 1500);

  it('reads OS, kernel, arch, resources and cgroup', () => {
    expect(facts.os).toMatchObject({ id: 'debian', versionId: '12' });
    expect(facts.arch).toBe('x86_64');
    expect(facts.kernel).toMatch(/^\d+\.\d+/);
    expect(facts.cpus).toBeGreaterThan(0);
    expect(facts.memoryMiB).toBeGreaterThan(1000);
    expect(facts.swapActive).toBe(false);
    expect(facts.container).toBe('systemd-nspawn');
    expect(facts.packageManager).toBe('apt');
    expect([1, 2]).toContain(facts.cgroupVersion);
  });

  it('takes MACs from ip -j link, skipping loopback', () => {
    expect(facts.macs.length).toBeGreaterThan(0);
    for (const mac of facts.macs) expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });

  it('finds sshd listening and measures clock skew against the midpoint', () => {
    expect(facts.listeningPorts).toContain(22);
    expect(facts.clockSkewMs).toBe(1500);
    expect(facts.productUuid).toMatch(/^[0-9a-f-]{32,36}$/);
  });
});

describe('listening ports', () => {
  it('keeps LISTEN (0A) sockets only', () => {
    const table = [
      '  sl  local_address rem_address   st',
      '   0: 00000000:0016 00000000:0000 0A 00000000:00000000',
      '   1: 0100007F:094B 00000000:0000 0A 00000000:00000000',
      '   2: 0B00A8C0:0016 0C00A8C0:D2F0 01 00000000:00000000',
    ].join('\n');
    expect(listeningPorts(table)).toEqual([22, 2379]);
  });
});
