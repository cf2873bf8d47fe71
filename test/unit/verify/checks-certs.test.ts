import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue } from '../../../src/pki/x509.js';
import { certificateCheck, issuedCerts } from '../../../src/verify/checks-certs.js';

const DAY = 86_400_000;

describe('certificate expiry check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-certs-'));
    mkdirSync(join(dir, 'etcd'));
    const ca = await issue({ commonName: 'ca', isCa: true, validityDays: 3650 });
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'ca.key'), ca.keyPem);
    const leaf = await issue({ commonName: 'apiserver', usages: ['server'], validityDays: 20 }, ca);
    writeFileSync(join(dir, 'etcd', 'server.crt'), leaf.certPem);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every .crt of the store (keys never), in subdirectories too', async () => {
    const certs = await issuedCerts(dir);
    expect(certs.map((c) => c.file).sort()).toEqual(['ca.crt', join('etcd', 'server.crt')]);
  });

  it('names the earliest: ok far ahead, warn within 30 days, fail once expired', async () => {
    const certs = await issuedCerts(dir);
    const leaf = certs.find((c) => c.file.endsWith('server.crt'));
    if (!leaf || !('notAfter' in leaf)) throw new Error('the leaf was not read');
    const leafEnd = leaf.notAfter.getTime();
    const warn = certificateCheck(certs, new Date());
    expect(warn).toMatchObject({ status: 'warn', summary: expect.stringContaining('etcd/server.crt') });
    expect(warn.evidence[0]).toMatch(/^etcd\/server\.crt: .*\((19|20) day\(s\) left\)/);
    expect(warn.hint).toMatch(/reissue/);
    expect(certificateCheck(certs, new Date(leafEnd - 40 * DAY)).status).toBe('ok');
    const expired = certificateCheck(certs, new Date(leafEnd + 2 * DAY));
    expect(expired.status).toBe('fail');
    expect(expired.summary).toContain('expired 2 day(s) ago');
  });

  it('names a certificate it cannot read instead of failing the whole verify', async () => {
    writeFileSync(join(dir, 'broken.crt'), 'not a certificate\n');
    try {
      const check = certificateCheck(await issuedCerts(dir), new Date());
      expect(check.status).toBe('fail');
      expect(check.evidence).toEqual([expect.stringMatching(/^broken\.crt: /)]);
    } finally {
      rmSync(join(dir, 'broken.crt'));
    }
  });

  it('fails when the store holds no certificate', () => {
    expect(certificateCheck([], new Date()).status).toBe('fail');
  });
});
