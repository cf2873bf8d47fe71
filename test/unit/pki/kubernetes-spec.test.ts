import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type InventoryInput, inventorySchema } from '../../../src/inventory/schema.js';
import {
  apiserverSans,
  clusterCerts,
  controlPlaneEndpointHost,
  K8S_CERT,
  kubeletClientCert,
  kubeletServingCert,
  serviceIp,
} from '../../../src/pki/kubernetes-spec.js';
import { APISERVER_ETCD_CLIENT, CA } from '../../../src/pki/spec.js';
import { ensurePki } from '../../../src/pki/store.js';
import { issue } from '../../../src/pki/x509.js';

const HOSTS: InventoryInput['hosts'] = [
  { name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] },
  { name: 'm2', address: '10.0.0.2', roles: ['etcd', 'master'] },
  { name: 'm3', address: '10.0.0.3', roles: ['etcd', 'master'] },
  { name: 'w1', address: '10.0.0.11', roles: ['node'] },
  { name: 'w2', address: '10.0.0.12', roles: ['node'] },
];
const inventory = (cluster: Partial<InventoryInput['cluster']> = {}, hosts = HOSTS) =>
  inventorySchema.parse({ cluster: { name: 'c', ...cluster }, hosts });

const subjectOf = (pem: string) => new X509Certificate(pem).subject.split('\n');
const tmp = () => mkdtempSync(join(tmpdir(), 'ks-k8s-pki-'));

describe('apiserver certificate names', () => {
  it('lists every master, loopback, the first service IP and the kubernetes Service names', () => {
    expect(apiserverSans(inventory({ network: { dnsDomain: 'corp.local' } }))).toEqual({
      dnsNames: [
        'm1',
        'm2',
        'm3',
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.corp.local',
      ],
      ipAddresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '127.0.0.1', '10.68.0.1'],
    });
  });

  it('adds the control-plane endpoint host, a name or an address, without its port', () => {
    const byName = inventory({ controlPlaneEndpoint: 'api.example.com:8443' });
    expect(controlPlaneEndpointHost(byName)).toBe('api.example.com');
    expect(apiserverSans(byName).dnsNames).toContain('api.example.com');
    const byV6 = inventory({ controlPlaneEndpoint: '[fd00::100]:6443' });
    expect(controlPlaneEndpointHost(byV6)).toBe('fd00::100');
    expect(apiserverSans(byV6).ipAddresses).toContain('fd00::100');
    expect(controlPlaneEndpointHost(inventory())).toBeUndefined();
  });

  it('takes service IPs from the service CIDR, IPv6 too', () => {
    expect(serviceIp(inventory({ network: { serviceCidr: '10.96.0.0/12' } }), 10)).toBe('10.96.0.10');
    expect(serviceIp(inventory({ network: { serviceCidr: 'fd00:10::/108' } }), 1)).toBe('fd00:10::1');
  });
});

describe('Kubernetes PKI on disk', () => {
  it('issues every identity with its subject, usages and CA; keys 0600', async () => {
    const dir = tmp();
    const pki = await ensurePki(dir, clusterCerts(inventory()), { persist: true });
    const ca = new X509Certificate(pki.get(CA.kubernetes).certPem);
    const frontProxyCa = new X509Certificate(pki.get(CA.frontProxy).certPem);
    const etcdCa = new X509Certificate(pki.get(CA.etcd).certPem);
    const expectations: [string, string[], X509Certificate, string[]][] = [
      [K8S_CERT.apiserver, ['CN=kube-apiserver'], ca, ['1.3.6.1.5.5.7.3.1']],
      [
        K8S_CERT.apiserverKubeletClient,
        ['CN=kube-apiserver-kubelet-client', 'O=kubeadm:cluster-admins'],
        ca,
        ['1.3.6.1.5.5.7.3.2'],
      ],
      [APISERVER_ETCD_CLIENT, ['CN=kube-apiserver-etcd-client'], etcdCa, ['1.3.6.1.5.5.7.3.2']],
      [K8S_CERT.frontProxyClient, ['CN=front-proxy-client'], frontProxyCa, ['1.3.6.1.5.5.7.3.2']],
      [K8S_CERT.controllerManager, ['CN=system:kube-controller-manager'], ca, ['1.3.6.1.5.5.7.3.2']],
      [K8S_CERT.scheduler, ['CN=system:kube-scheduler'], ca, ['1.3.6.1.5.5.7.3.2']],
      [K8S_CERT.kubeProxy, ['CN=system:kube-proxy'], ca, ['1.3.6.1.5.5.7.3.2']],
      [K8S_CERT.admin, ['CN=kubernetes-admin', 'O=kubeadm:cluster-admins'], ca, ['1.3.6.1.5.5.7.3.2']],
      [K8S_CERT.superAdmin, ['CN=kubernetes-super-admin', 'O=system:masters'], ca, ['1.3.6.1.5.5.7.3.2']],
      [kubeletClientCert('w2'), ['CN=system:node:w2', 'O=system:nodes'], ca, ['1.3.6.1.5.5.7.3.2']],
      [kubeletServingCert('m1'), ['CN=system:node:m1', 'O=system:nodes'], ca, ['1.3.6.1.5.5.7.3.1']],
    ];
    for (const [id, subject, issuer, usages] of expectations) {
      const cert = new X509Certificate(pki.get(id).certPem);
      expect(subjectOf(pki.get(id).certPem), id).toEqual(subject);
      expect(cert.checkIssued(issuer) && cert.verify(issuer.publicKey), `${id} signed by its CA`).toBe(true);
      expect(cert.keyUsage, id).toEqual(usages);
      expect(statSync(join(dir, `${id}.key`)).mode & 0o777, id).toBe(0o600);
    }
    expect(new X509Certificate(pki.get(kubeletServingCert('w1')).certPem).subjectAltName).toBe(
      'DNS:w1, IP Address:10.0.0.11',
    );
    expect(pki.changes.some((c) => c.id.startsWith('kubelet/m'))).toBe(true);
    expect((await ensurePki(dir, clusterCerts(inventory()), { persist: true })).changes).toEqual([]);
  });

  it('reissues a leaf whose subject, names or lifetime no longer fit, keeping the CA', async () => {
    const dir = tmp();
    const first = await ensurePki(dir, clusterCerts(inventory()), { persist: true });
    const ca = first.get(CA.kubernetes);
    // An admin cert that still says system:masters, and a scheduler cert about to expire.
    const old = await issue(
      {
        commonName: 'kubernetes-admin',
        organization: 'system:masters',
        usages: ['client'],
        validityDays: 365,
      },
      ca,
    );
    writeFileSync(join(dir, 'admin.crt'), old.certPem);
    writeFileSync(join(dir, 'admin.key'), old.keyPem);
    const expiring = await issue(
      { commonName: 'system:kube-scheduler', usages: ['client'], validityDays: 10 },
      ca,
    );
    writeFileSync(join(dir, 'kube-scheduler.crt'), expiring.certPem);
    writeFileSync(join(dir, 'kube-scheduler.key'), expiring.keyPem);
    const moved = HOSTS.map((h) => (h.name === 'm3' ? { ...h, address: '10.0.0.33' } : h));
    const second = await ensurePki(dir, clusterCerts(inventory({}, moved)), { persist: true });
    const reasons = new Map(second.changes.map((c) => [c.id, `${c.action}: ${c.reason}`]));
    expect(reasons.get('admin')).toMatch(/^reissued: subject is CN=kubernetes-admin, O=system:masters/);
    expect(reasons.get('kube-scheduler')).toMatch(/^reissued: expires in \d days/);
    expect(reasons.get('apiserver')).toMatch(/^reissued: IP addresses .* differ/);
    expect(reasons.get(kubeletServingCert('m3'))).toMatch(/^reissued: IP addresses/);
    expect(reasons.has(kubeletClientCert('m3'))).toBe(false);
    expect(reasons.has(CA.kubernetes)).toBe(false);
    expect(subjectOf(readFileSync(join(dir, 'admin.crt'), 'utf8'))).toEqual([
      'CN=kubernetes-admin',
      'O=kubeadm:cluster-admins',
    ]);
  });

  it('reissues a leaf signed by another CA and a leaf with the wrong usages', async () => {
    const dir = tmp();
    const first = await ensurePki(dir, clusterCerts(inventory()), { persist: true });
    // front-proxy-client signed by the cluster CA would let the proxy act as any client.
    const wrongCa = await issue(
      { commonName: 'front-proxy-client', usages: ['client'], validityDays: 365 },
      first.get(CA.kubernetes),
    );
    writeFileSync(join(dir, 'front-proxy-client.crt'), wrongCa.certPem);
    writeFileSync(join(dir, 'front-proxy-client.key'), wrongCa.keyPem);
    const serverUsage = await issue(
      { commonName: 'system:kube-proxy', usages: ['server'], validityDays: 365 },
      first.get(CA.kubernetes),
    );
    writeFileSync(join(dir, 'kube-proxy.crt'), serverUsage.certPem);
    writeFileSync(join(dir, 'kube-proxy.key'), serverUsage.keyPem);
    const second = await ensurePki(dir, clusterCerts(inventory()), { persist: true });
    expect(second.changes.map((c) => `${c.id}: ${c.reason}`).sort()).toEqual([
      'front-proxy-client: not issued by the current front-proxy-ca',
      'kube-proxy: usages server differ from client',
    ]);
  });

  it('never replaces a CA whose key does not match, and says so without key material', async () => {
    const dir = tmp();
    await ensurePki(dir, clusterCerts(inventory()), { persist: true });
    const other = await issue({ commonName: 'front-proxy-ca', isCa: true, validityDays: 10 });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'front-proxy-ca.key'), other.keyPem);
    const attempt = ensurePki(dir, clusterCerts(inventory()), { persist: true });
    await expect(attempt).rejects.toThrow(/front-proxy-ca\.crt has expired or does not match its key/);
    await expect(attempt).rejects.not.toThrow(/PRIVATE KEY/);
  });
});
