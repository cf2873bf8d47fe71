import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { withHostsBlock, withoutSwap } from '../../../src/os/files.js';
import { observeRead, parseObserved } from '../../../src/steps/prepare.js';

/** Runs prepare's read locally with /etc/hosts and /etc/fstab swapped for test files. */
async function observeFiles(hosts: string, fstab: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ks-prepare-'));
  writeFileSync(join(dir, 'hosts'), hosts);
  writeFileSync(join(dir, 'fstab'), fstab);
  const read = observeRead(['overlay']);
  const script = read.script
    .replace('cat /etc/hosts', `cat ${join(dir, 'hosts')}`)
    .replace('cat /etc/fstab', `cat ${join(dir, 'fstab')}`);
  const { stdout } = await execa('sh', ['-c', script], { reject: false });
  return parseObserved(stdout, read, Date.now());
}

describe('prepare reads /etc/hosts and /etc/fstab', () => {
  it('keeps both files apart when neither ends with a newline', async () => {
    const seen = await observeFiles(
      '127.0.0.1 localhost\n10.0.0.9 db',
      'UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0',
    );
    expect(seen.hosts).toBe('127.0.0.1 localhost\n10.0.0.9 db');
    expect(seen.fstab).toBe('UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0');
    const hosts = withHostsBlock(seen.hosts, [{ address: '10.0.0.1', names: ['m1'] }]);
    expect(hosts).toBe(
      '127.0.0.1 localhost\n10.0.0.9 db\n# BEGIN kubesmith managed block: cluster hosts\n10.0.0.1 m1\n# END kubesmith managed block\n',
    );
    expect(hosts).not.toContain('UUID=1');
    expect(withoutSwap(seen.fstab)).toBe(
      'UUID=1 / ext4 defaults 0 1\n#kubesmith: swap off# /swapfile none swap sw 0 0',
    );
  });

  it('reads the facts and the kernel probe of the same command', async () => {
    const seen = await observeFiles('127.0.0.1 localhost\n', '');
    expect(seen.facts.kernel).toMatch(/^\d+\.\d+/);
    expect(seen.facts.cpus).toBeGreaterThan(0);
    expect(seen.modules.has('overlay')).toBe(true);
    expect(seen.fstab).toBe('');
  });
});
