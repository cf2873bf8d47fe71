import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventorySchema } from '../../../src/inventory/schema.js';
import {
  CA,
  cas,
  ETCD_KUBESMITH_CLIENT,
  etcdCerts,
  etcdPeerCert,
  etcdServerCert,
} from '../../../src/pki/spec.js';
import { ensurePki } from '../../../src/pki/store.js';

const inventory = (second = '10.0.0.2') =>
  inventorySchema.parse({
    cluster: { name: 'c', certificates: { certValidityDays: 100 } },
    hosts: [
      { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
      { name: 'm2', address: second, roles: ['etcd', 'master'] },
      { name: 'm3', address: '10.0.0.3', roles: ['etcd', 'master'] },
    ],
  });
const specs = (inv = inventory()) => [...cas(inv), ...etcdCerts(inv)];

describe('PKI', () => {
  it('creates separate CAs and etcd certs with exact SANs, usages and chains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-pki-'));
    const pki = await ensurePki(dir, specs(), { persist: true });
    expect(pki.changes.map((c) => c.id)).toContain('etcd/server-m1');
    const etcdCa = new X509Certificate(pki.get(CA.etcd).certPem);
    const k8sCa = new X509Certificate(pki.get(CA.kubernetes).certPem);
    expect(etcdCa.ca).toBe(true);
    expect(etcdCa.fingerprint256).not.toBe(k8sCa.fingerprint256);

    const server = new X509Certificate(pki.get(etcdServerCert('m2')).certPem);
    expect(server.checkIssued(etcdCa)).toBe(true);
    expect(server.verify(etcdCa.publicKey)).toBe(true);
    expect(server.checkIssued(k8sCa)).toBe(false);
    expect(server.subjectAltName).toBe(
      'DNS:m2, DNS:localhost, IP Address:10.0.0.2, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const client = new X509Certificate(pki.get(ETCD_KUBESMITH_CLIENT).certPem);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(client.subjectAltName).toBeUndefined();
    const days = (new Date(server.validTo).getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(100);

    expect(statSync(join(dir, 'etcd', 'server-m2.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sa.key')).mode & 0o777).toBe(0o600);
    // openssl agrees with Node on the chain.
    const verified = execFileSync(
      'openssl',
      ['verify', '-CAfile', join(dir, 'etcd', 'ca.crt'), join(dir, 'etcd', 'peer-m3.crt')],
      { encoding: 'utf8' },
    );
    expect(verified.trim()).toMatch(/: OK$/);
  });

  it('reuses everything on a second pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-pki-'));
    const first = await ensurePki(dir, specs(), { persist: true });
    const second = await ensurePki(dir, specs(), { persist: true });
    expect(second.changes).toEqual([]);
    expect(second.get(etcdPeerCert('m1')).certPem).toBe(first.get(etcdPeerCert('m1')).certPem);
  });

  it('reissues only the certs whose SANs no longer match the inventory, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-pki-'));
    await ensurePki(dir, specs(), { persist: true });
    const caBefore = readFileSync(join(dir, 'etcd', 'ca.crt'), 'utf8');
    const changed = await ensurePki(dir, specs(inventory('10.0.0.22')), { persist: true });
    expect(changed.changes.map((c) => `${c.id} ${c.action}`).sort()).toEqual([
      'etcd/peer-m2 reissued',
      'etcd/server-m2 reissued',
    ]);
    expect(changed.changes[0]?.reason).toMatch(/IP addresses .* differ/);
    expect(readFileSync(join(dir, 'etcd', 'ca.crt'), 'utf8')).toBe(caBefore);
  });

  it('writes nothing in dry-run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-pki-'));
    const planned = await ensurePki(dir, specs(), { persist: false });
    expect(planned.changes.length).toBeGreaterThan(0);
    expect(() => statSync(join(dir, 'ca.crt'))).toThrow();
  });
});
