import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiServerUrl, renderKubeconfig } from '../../../src/components/kubeconfig.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import { issue } from '../../../src/pki/x509.js';

const inventory = (controlPlaneEndpoint?: string) =>
  inventorySchema.parse({
    cluster: { name: 'c', ...(controlPlaneEndpoint === undefined ? {} : { controlPlaneEndpoint }) },
    hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
  });

describe('API server URL', () => {
  it('is the local balancer without a control-plane endpoint', () => {
    expect(apiServerUrl(inventory())).toBe('https://127.0.0.1:6443');
  });
  it('is the control-plane endpoint when there is one, IPv6 in brackets as written', () => {
    expect(apiServerUrl(inventory('api.example.com:8443'))).toBe('https://api.example.com:8443');
    expect(apiServerUrl(inventory('[fd00::10]:6443'))).toBe('https://[fd00::10]:6443');
    expect(new URL(apiServerUrl(inventory('[fd00::10]:6443'))).hostname).toBe('[fd00::10]');
  });
});

describe('kubeconfig', () => {
  it('embeds the CA, cert and key for one user and names a current context', async () => {
    const ca = await issue({ commonName: 'kubernetes', isCa: true, validityDays: 10 });
    const admin = await issue(
      {
        commonName: 'kubernetes-admin',
        organization: 'kubeadm:cluster-admins',
        usages: ['client'],
        validityDays: 10,
      },
      ca,
    );
    const text = renderKubeconfig({
      clusterName: 'prod',
      server: 'https://127.0.0.1:6443',
      caPem: ca.certPem,
      user: 'kubernetes-admin',
      certPem: admin.certPem,
      keyPem: admin.keyPem,
    });
    const config = parse(text);
    expect(config).toMatchObject({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'kubernetes-admin@prod',
      contexts: [{ name: 'kubernetes-admin@prod', context: { cluster: 'prod', user: 'kubernetes-admin' } }],
      clusters: [{ name: 'prod', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'kubernetes-admin' }],
    });
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    expect(decode(config.clusters[0].cluster['certificate-authority-data'])).toBe(ca.certPem);
    expect(decode(config.users[0].user['client-certificate-data'])).toBe(admin.certPem);
    expect(decode(config.users[0].user['client-key-data'])).toBe(admin.keyPem);
    const cert = new X509Certificate(decode(config.users[0].user['client-certificate-data']));
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    // Base64 stays on one line: no folding that a kubeconfig loader might misread.
    expect(text.split('\n').find((l) => l.includes('client-key-data'))).toMatch(/client-key-data: \S+$/);
  });
});
