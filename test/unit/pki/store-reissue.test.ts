import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { CA, cas, ETCD_KUBESMITH_CLIENT, etcdCerts, etcdServerCert } from '../../../src/pki/spec.js';
import { ensurePki } from '../../../src/pki/store.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'c' },
  hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
});
const specs = [...cas(inventory), ...etcdCerts(inventory)];
const serialOf = (dir: string, id: string) =>
  new X509Certificate(readFileSync(join(dir, `${id}.crt`), 'utf8')).serialNumber;

describe('ensurePki: forced reissue (certs renew)', () => {
  it('reissues the named leaves that still fit, keeps the CAs and every other leaf', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-pki-'));
    await ensurePki(dir, specs, { persist: true });
    const before = {
      ca: serialOf(dir, CA.etcd),
      server: serialOf(dir, etcdServerCert('m1')),
      client: serialOf(dir, ETCD_KUBESMITH_CLIENT),
    };
    const pki = await ensurePki(dir, specs, {
      persist: true,
      reissue: new Set([etcdServerCert('m1')]),
    });
    expect(pki.changes).toEqual([
      { id: etcdServerCert('m1'), action: 'reissued', reason: 'renewal requested' },
    ]);
    expect(serialOf(dir, etcdServerCert('m1'))).not.toBe(before.server);
    expect(serialOf(dir, CA.etcd)).toBe(before.ca);
    expect(serialOf(dir, ETCD_KUBESMITH_CLIENT)).toBe(before.client);
    const server = new X509Certificate(pki.get(etcdServerCert('m1')).certPem);
    expect(server.checkIssued(new X509Certificate(pki.get(CA.etcd).certPem))).toBe(true);
    // The next ordinary run reuses the renewed cert.
    expect((await ensurePki(dir, specs, { persist: true })).changes).toEqual([]);
  });

  it('refuses a CA or an id it does not plan, before writing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-pki-'));
    await expect(ensurePki(dir, specs, { persist: true, reissue: new Set([CA.etcd]) })).rejects.toThrow(
      /is a CA/,
    );
    await expect(
      ensurePki(dir, specs, { persist: true, reissue: new Set(['etcd/server-nope']) }),
    ).rejects.toThrow(/not in the plan/);
  });
});
