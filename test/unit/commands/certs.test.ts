import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneHostAtATime, renewCerts } from '../../../src/commands/certs.js';
import { rotateCas } from '../../../src/commands/certs-ca.js';
import { InputError } from '../../../src/errors.js';
import { clusterPaths } from '../../../src/home.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { cas } from '../../../src/pki/spec.js';
import { ensurePki } from '../../../src/pki/store.js';
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
  it('refuses a leaf renewal while a CA rotation is recorded, before the lock or any host', async () => {
    const c = cluster();
    mkdirSync(c.paths.pki, { recursive: true });
    writeFileSync(
      join(c.paths.pki, 'ca-rotation.json'),
      JSON.stringify({ phase: 'new-signing', startedAt: '2026-12-07T00:00:00.000Z', cas: ['ca'] }),
    );
    const refused = renewCerts(c, quiet);
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(
      /stopped at phase new-signing; nothing was changed\. Finish it first: .* --ca/,
    );
    expect(existsSync(c.paths.lock)).toBe(false);
  });

  it('refuses --ca on a cluster whose PKI store is not on this deploy machine, before the lock', async () => {
    const c = cluster();
    const refused = rotateCas(c, { display: quiet.display, approve: async () => {} });
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(/no CA key at .*ca\.key/);
    expect(existsSync(c.paths.lock)).toBe(false);
  });

  it('refuses --ca when the rotation record is not one kubesmith wrote, naming the file', async () => {
    const c = cluster();
    await ensurePki(c.paths.pki, cas(inventory), { persist: true });
    writeFileSync(join(c.paths.pki, 'ca-rotation.json'), '{"phase":"sideways"}');
    await expect(rotateCas(c, { display: quiet.display, approve: async () => {} })).rejects.toThrow(
      /ca-rotation\.json is not a CA rotation record kubesmith wrote/,
    );
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
