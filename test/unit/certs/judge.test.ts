import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeCerts, storeFingerprints } from '../../../src/certs/judge.js';
import type { CertInfo, CertReading } from '../../../src/certs/read.js';
import { certSummary, formatCertTable } from '../../../src/certs/table.js';
import { issue } from '../../../src/pki/x509.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const DAY = 86_400_000;
const info = (days: number, fingerprint = 'AA'): CertInfo => ({
  subject: 'CN=kube-apiserver',
  issuer: 'CN=kubernetes',
  serial: '01',
  notBefore: new Date(NOW.getTime() - 300 * DAY),
  notAfter: new Date(NOW.getTime() + days * DAY),
  fingerprint,
});
const reading = (file: string, cert: CertInfo, id = 'apiserver'): CertReading => ({
  host: 'm1',
  file,
  id,
  cert,
});

describe('certs judge', () => {
  it('ok, warns under the renew threshold and on a copy that differs, fails when expired or missing', () => {
    const rows = judgeCerts(
      [
        reading('/a.crt', info(200)),
        reading('/b.crt', info(10)),
        reading('/c.crt', info(-2)),
        reading('/d.crt', info(200, 'BB')),
        reading('/d.crt#2', info(200, 'CC')),
        reading('/e.crt', info(200), 'not-in-store'),
        { host: 'n1', file: '/f.crt', id: 'apiserver', problem: 'missing', detail: 'no such file, or empty' },
      ],
      new Map([['apiserver', 'AA']]),
      NOW,
    );
    expect(rows.map((r) => [r.file, r.status, r.daysLeft, r.notes.join('; ')])).toEqual([
      ['/a.crt', 'ok', 200, ''],
      ['/b.crt', 'warn', 10, 'expires within 30 days: kubesmith certs renew'],
      ['/c.crt', 'fail', -2, 'expired 2 day(s) ago'],
      ['/d.crt', 'warn', 200, "differs from the deploy machine's pki/apiserver.crt"],
      ['/d.crt#2', 'ok', 200, ''],
      ['/e.crt', 'warn', 200, "no copy in the deploy machine's pki/not-in-store.crt"],
      ['/f.crt', 'fail', undefined, 'missing: no such file, or empty'],
    ]);
    expect(rows[0]?.notAfter).toBe(new Date(NOW.getTime() + 200 * DAY).toISOString());
    const table = formatCertTable(rows);
    expect(table.split('\n')[0]).toMatch(/^HOST +FILE +SUBJECT +ISSUER +NOT AFTER +DAYS +STATUS +NOTE$/);
    expect(table).toContain('FAIL');
    expect(certSummary(rows)).toBe(
      '7 certificate(s) on 2 host(s): 2 ok, 3 warning(s), 2 failure(s); earliest expiry 2026-11-27 (m1 /c.crt, -2 days)',
    );
  });

  it("reads the store's fingerprints by id, leaving out ids it does not hold", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-certs-store-'));
    const ca = await issue({ commonName: 'etcd-ca', isCa: true, validityDays: 1 });
    mkdirSync(join(dir, 'etcd'));
    writeFileSync(join(dir, 'etcd', 'ca.crt'), ca.certPem);
    const found = await storeFingerprints(dir, ['etcd/ca', 'etcd/ca', 'apiserver']);
    expect([...found.keys()]).toEqual(['etcd/ca']);
    expect(found.get('etcd/ca')).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
