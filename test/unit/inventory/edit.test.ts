import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeRole } from '../../../src/inventory/edit.js';

describe('inventory edits', () => {
  it('takes the etcd role away, drops a host left without roles, keeps comments and a copy', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ks-edit-')), 'inventory.yaml');
    const text = [
      '# my cluster',
      'cluster: { name: c }',
      'hosts:',
      '  - { name: a, address: 10.0.0.1, roles: [etcd, master] }',
      '  # the fourth',
      '  - { name: d, address: 10.0.0.4, roles: [etcd, node] }',
      '  - { name: e, address: 10.0.0.5, roles: [etcd] }',
      '',
    ].join('\n');
    writeFileSync(file, text);
    const backup = await removeRole(file, ['d', 'e'], 'etcd', 'T1');
    expect(readFileSync(backup, 'utf8')).toBe(text);
    const out = readFileSync(file, 'utf8');
    expect(out).toContain('# my cluster');
    expect(out).toContain('# the fourth');
    expect(out).toMatch(/name: d, address: 10\.0\.0\.4, roles: \[ node \]/);
    expect(out).not.toContain('name: e');
    expect(out).toMatch(/name: a, address: 10\.0\.0\.1, roles: \[ etcd, master \]/);
  });
});
