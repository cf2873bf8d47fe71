import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneHostAtATime, renewCerts } from '../../../src/commands/certs.js';
import { InputError } from '../../../src/errors.js';
import { clusterPaths } from '../../../src/home.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { plainRenderer } from '../../../src/render/plain.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'c' },
  hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
});
const cluster = () => ({
  paths: clusterPaths(mkdtempSync(join(tmpdir(), 'ks-certs-cmd-')), 'c'),
  loaded: { file: '/dev/null', inventory, raw: {} },
});
const quiet = { display: plainRenderer(process.stderr, {}), approve: async () => {} };

describe('certs renew input', () => {
  it('refuses --ca as not implemented, before the lock or any host', async () => {
    const c = cluster();
    const refused = renewCerts(c, { ...quiet, ca: true });
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(/--ca .* not implemented yet; nothing was changed/);
    expect(existsSync(c.paths.lock)).toBe(false);
  });

  it('refuses a cluster whose PKI store is not on this deploy machine, before the lock', async () => {
    const c = cluster();
    await expect(renewCerts(c, quiet)).rejects.toThrow(/no CA certificate at .*ca\.crt/);
    expect(existsSync(c.paths.lock)).toBe(false);
  });

  it('runs with one host at a time, the inventory otherwise the same', () => {
    const loaded = { file: '/dev/null', inventory, raw: {} };
    const one = oneHostAtATime(loaded);
    expect(one.inventory.ssh.concurrency).toBe(1);
    expect(one.inventory.hosts).toBe(inventory.hosts);
    expect(loaded.inventory.ssh.concurrency).toBe(inventory.ssh.concurrency);
  });
});
