import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError } from '../../../src/errors.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { issueUserCert, userCertFacts, userKubeconfig } from '../../../src/pki/user-cert.js';
import { describeCert, isIssuedBy, issue } from '../../../src/pki/x509.js';

const DAY = 86_400_000;
const ca = await issue({ commonName: 'kubernetes', isCa: true, validityDays: 100 });

describe('user certificate', () => {
  it('is a client certificate for CN=user, O=group, signed by the cluster CA, for the days asked', async () => {
    const pair = await issueUserCert(ca, { user: 'alice', group: 'dev', days: 30 });
    expect(isIssuedBy(pair.certPem, ca.certPem)).toBe(true);
    const facts = describeCert(pair.certPem);
    expect(facts.usages).toEqual(['client']);
    expect(userCertFacts(pair.certPem)).toMatchObject({ user: 'alice', groups: ['dev'] });
    const left = (facts.notAfter.getTime() - Date.now()) / DAY;
    expect(left).toBeGreaterThan(29.9);
    expect(left).toBeLessThan(30.1);
    expect(new X509Certificate(pair.certPem).ca).toBe(false);
    expect(pair.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('has no group when none is asked', async () => {
    const pair = await issueUserCert(ca, { user: 'bob', days: 1 });
    expect(userCertFacts(pair.certPem).groups).toEqual([]);
  });

  it('is refused when it would outlive the CA, naming --days', async () => {
    const asked = issueUserCert(ca, { user: 'alice', days: 101 });
    await expect(asked).rejects.toBeInstanceOf(InputError);
    await expect(asked).rejects.toThrow(/^--days: 101 days would outlive the cluster CA, which expires on /);
  });
});

describe('user kubeconfig', () => {
  const inventory = (controlPlaneEndpoint = '') =>
    inventorySchema.parse({
      cluster: { name: 'prod', controlPlaneEndpoint },
      hosts: [
        { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
        { name: 'n1', address: '10.0.0.9', roles: ['node'] },
      ],
    });

  it('names the server a user off the cluster reaches, with the CA and the user embedded', async () => {
    const pair = await issueUserCert(ca, { user: 'alice', days: 2 });
    const config = parse(userKubeconfig(inventory(), ca.certPem, 'alice', pair));
    expect(config.clusters[0].cluster.server).toBe('https://10.0.0.1:6443');
    expect(config['current-context']).toBe('alice@prod');
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString();
    expect(decode(config.clusters[0].cluster['certificate-authority-data'])).toBe(ca.certPem);
    expect(decode(config.users[0].user['client-certificate-data'])).toBe(pair.certPem);
    expect(decode(config.users[0].user['client-key-data'])).toBe(pair.keyPem);
    const behindEndpoint = parse(
      userKubeconfig(inventory('api.example.com:6443'), ca.certPem, 'alice', pair),
    );
    expect(behindEndpoint.clusters[0].cluster.server).toBe('https://api.example.com:6443');
  });
});
