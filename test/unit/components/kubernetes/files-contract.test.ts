import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployMachineKubeconfigs } from '../../../../src/components/kubernetes/kubeconfigs.js';
import { type HostFile, K8S_PATHS, unitPath } from '../../../../src/components/kubernetes/paths.js';
import { apiserverSans, etcdServerCertFor } from './pki-views.js';
import '../../../../src/pki/x509.js'; // sets @peculiar/x509's crypto provider
import { CA } from '../../../../src/pki/spec.js';
import type { Pki } from '../../../../src/pki/store.js';
import {
  fileAt,
  flagValue,
  type Inventory,
  inventory,
  kubeconfigParts,
  pkiFor,
  renderCluster,
  subjectOf,
  unitFlags,
  yamlOf,
} from './fixture.js';

const VERSION = '1.35.2';
/** Flags whose path the component writes, not reads. */
const WRITTEN = new Set(['--audit-log-path']);

/** Whether cert was signed by ca's key, checked with @peculiar/x509. */
async function chainsTo(certPem: string, caPem: string): Promise<boolean> {
  const cert = new x509.X509Certificate(certPem);
  const ca = new x509.X509Certificate(caPem);
  return cert.issuer === ca.subject && (await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }));
}

/** Every absolute path a host's units and config files point at. */
function referencedPaths(files: HostFile[]): { where: string; path: string }[] {
  const refs: { where: string; path: string }[] = [];
  for (const f of files.filter((f) => f.path.endsWith('.service'))) {
    for (const [name, value] of unitFlags(f.content))
      if (value.startsWith('/') && !WRITTEN.has(name)) refs.push({ where: `${f.path} ${name}`, path: value });
  }
  const walk = (where: string, value: unknown) => {
    if (typeof value === 'string' && value.startsWith('/')) refs.push({ where, path: value });
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(`${where}.${k}`, v);
  };
  for (const path of [K8S_PATHS.kubeletConfig, K8S_PATHS.kubeProxyConfig, K8S_PATHS.schedulerConfig]) {
    const f = files.find((file) => file.path === path);
    // resolvConf is the host's own file, not one kubesmith installs.
    if (f) walk(f.path, { ...yamlOf(f), resolvConf: undefined });
  }
  return refs;
}

describe.each([
  ['with the local balancer', inventory()],
  ['with a control-plane endpoint', inventory({ controlPlaneEndpoint: 'api.prod.example:6443' })],
])('Kubernetes files %s', (_, inv: Inventory) => {
  let pki: Pki;
  let hosts: Map<string, HostFile[]>;
  beforeAll(async () => {
    pki = await pkiFor(inv);
    hosts = renderCluster(inv, pki, VERSION);
  });

  it('installs every file a flag or config field points at on that host', () => {
    for (const [host, files] of hosts) {
      const have = new Set(files.map((f) => f.path));
      for (const ref of referencedPaths(files))
        expect(have.has(ref.path), `${host}: ${ref.where}`).toBe(true);
    }
    // The contract reaches into every component.
    expect(referencedPaths(hosts.get('m1')!).length).toBeGreaterThan(30);
  });

  it('points every kubeconfig at a name in the apiserver cert: the local balancer, or the own apiserver for the controller-manager and scheduler', () => {
    const sans = apiserverSans(pki);
    const ownApiserver: string[] = [K8S_PATHS.controllerManagerKubeconfig, K8S_PATHS.schedulerKubeconfig];
    for (const [host, files] of hosts)
      for (const f of files.filter(
        (file) => file.path.endsWith('.conf') && file.path.startsWith('/etc/kubernetes/'),
      )) {
        const { server } = kubeconfigParts(f);
        const name = new URL(server).hostname.replace(/^\[|\]$/g, '');
        expect(sans.has(name), `${host} ${f.path}: ${server}`).toBe(true);
        const address = inv.hosts.find((h) => h.name === host)!.address;
        if (ownApiserver.includes(f.path))
          expect(server, `${host} ${f.path}`).toBe(`https://${address}:6443`);
        else if (!inv.cluster.controlPlaneEndpoint)
          expect(server, `${host} ${f.path}`).toBe('https://127.0.0.1:6443');
        expect(new URL(server).port).toBe('6443');
      }
  });

  it('signs every client cert with the CA its server trusts, and every server cert with the CA its clients trust', async () => {
    const m1 = hosts.get('m1')!;
    const w1 = hosts.get('w1')!;
    const apiserverUnit = fileAt(m1, unitPath('kube-apiserver')).content;
    const at = (files: HostFile[], path: string | undefined) => fileAt(files, path ?? 'missing flag').content;
    const apiserverClientCa = at(m1, flagValue(apiserverUnit, '--client-ca-file'));
    const apiserverCert = at(m1, flagValue(apiserverUnit, '--tls-cert-file'));
    for (const [host, files] of hosts)
      for (const f of files.filter(
        (file) => file.path.endsWith('.conf') && file.path.startsWith('/etc/kubernetes/'),
      )) {
        const kubeconfig = kubeconfigParts(f);
        expect(await chainsTo(kubeconfig.certPem, apiserverClientCa), `${host} ${f.path} client`).toBe(true);
        expect(
          await chainsTo(apiserverCert, kubeconfig.caPem),
          `${host} ${f.path} trusts the apiserver`,
        ).toBe(true);
      }
    // apiserver -> etcd: its client cert against the CA etcd trusts, etcd's serving cert against its etcd CA.
    const etcdTrusted = pki.get(CA.etcd).certPem;
    expect(await chainsTo(at(m1, flagValue(apiserverUnit, '--etcd-certfile')), etcdTrusted)).toBe(true);
    expect(
      await chainsTo(etcdServerCertFor(pki, 'm2'), at(m1, flagValue(apiserverUnit, '--etcd-cafile'))),
    ).toBe(true);
    expect(flagValue(apiserverUnit, '--etcd-servers')).toBe(
      'https://10.0.0.1:2379,https://10.0.0.2:2379,https://10.0.0.3:2379',
    );
    // apiserver -> kubelet: client cert against the kubelet's client CA; kubelet serving cert against the apiserver's kubelet CA.
    const kubelet = yamlOf(fileAt(w1, K8S_PATHS.kubeletConfig)) as {
      authentication: { x509: { clientCAFile: string } };
      tlsCertFile: string;
    };
    const kubeletClientCa = at(w1, kubelet.authentication.x509.clientCAFile);
    expect(
      await chainsTo(at(m1, flagValue(apiserverUnit, '--kubelet-client-certificate')), kubeletClientCa),
    ).toBe(true);
    const kubeletServing = at(w1, kubelet.tlsCertFile);
    expect(
      await chainsTo(kubeletServing, at(m1, flagValue(apiserverUnit, '--kubelet-certificate-authority'))),
    ).toBe(true);
    expect(
      new x509.X509Certificate(kubeletServing)
        .getExtension(x509.SubjectAlternativeNameExtension)
        ?.names.toJSON(),
    ).toEqual([
      { type: 'dns', value: 'w1' },
      { type: 'ip', value: '10.0.0.11' },
    ]);
    // Aggregation: the front proxy's client cert against the request-header CA, with an allowed name.
    const proxyCert = at(m1, flagValue(apiserverUnit, '--proxy-client-cert-file'));
    expect(
      await chainsTo(proxyCert, at(m1, flagValue(apiserverUnit, '--requestheader-client-ca-file'))),
    ).toBe(true);
    expect(await chainsTo(proxyCert, apiserverClientCa)).toBe(false);
    expect(subjectOf(proxyCert)).toEqual([`CN=${flagValue(apiserverUnit, '--requestheader-allowed-names')}`]);
  });

  it('gives each kubeconfig the identity its component needs', () => {
    const identity = (files: HostFile[], path: string) =>
      subjectOf(kubeconfigParts(fileAt(files, path)).certPem);
    const m2 = hosts.get('m2')!;
    expect(identity(m2, K8S_PATHS.adminKubeconfig)).toEqual([
      'CN=kubernetes-admin',
      'O=kubeadm:cluster-admins',
    ]);
    expect(identity(m2, K8S_PATHS.controllerManagerKubeconfig)).toEqual([
      'CN=system:kube-controller-manager',
    ]);
    expect(identity(m2, K8S_PATHS.schedulerKubeconfig)).toEqual(['CN=system:kube-scheduler']);
    expect(identity(m2, K8S_PATHS.kubeletKubeconfig)).toEqual(['CN=system:node:m2', 'O=system:nodes']);
    expect(identity(hosts.get('w2')!, K8S_PATHS.kubeletKubeconfig)).toEqual([
      'CN=system:node:w2',
      'O=system:nodes',
    ]);
    expect(identity(hosts.get('w2')!, K8S_PATHS.kubeProxyKubeconfig)).toEqual(['CN=system:kube-proxy']);
  });

  it('keeps keys and credentials 0600, and CA keys and admin credentials off the workers', () => {
    for (const [host, files] of hosts) {
      for (const f of files) {
        const secret = /PRIVATE KEY|client-key-data|secret:/.test(f.content);
        expect(f.mode, `${host} ${f.path}`).toBe(secret ? 0o600 : 0o644);
      }
      const paths = files.map((f) => f.path);
      const keys = paths.filter((p) => p.endsWith('.key'));
      if (host.startsWith('w')) {
        expect(keys, host).toEqual([K8S_PATHS.kubeletServingKey]);
        expect(paths, host).not.toContain(K8S_PATHS.adminKubeconfig);
        expect(paths, host).not.toContain(K8S_PATHS.encryptionConfig);
      } else {
        expect(
          keys.filter((k) => k.includes('ca.key')),
          host,
        ).toEqual([K8S_PATHS.caKey]);
      }
      // The break-glass identity (system:masters) never leaves the deploy machine.
      const certs = files.flatMap((f) =>
        f.path.endsWith('.crt')
          ? [f.content]
          : f.path.endsWith('.conf') && f.path.startsWith('/etc/kubernetes/')
            ? [kubeconfigParts(f).certPem]
            : [],
      );
      expect(certs.length, host).toBeGreaterThan(1);
      for (const pem of certs) expect(subjectOf(pem), host).not.toContain('O=system:masters');
    }
  });

  it('keeps the admin and break-glass kubeconfigs for the deploy machine', () => {
    const local = deployMachineKubeconfigs(inv, pki);
    expect(local.map((f) => [f.file, f.mode])).toEqual([
      ['kubeconfig', 0o600],
      ['super-admin.kubeconfig', 0o600],
    ]);
    const identity = (content: string) => subjectOf(kubeconfigParts({ path: '', content, mode: 0 }).certPem);
    expect(identity(local[0]!.content)).toEqual(['CN=kubernetes-admin', 'O=kubeadm:cluster-admins']);
    expect(identity(local[1]!.content)).toEqual(['CN=kubernetes-super-admin', 'O=system:masters']);
    // The same credentials as the masters' admin.conf, but pointing at the first master: the
    // deploy machine has no local balancer.
    const server = (content: string) => parse(content).clusters[0].cluster.server;
    const onMaster = fileAt(hosts.get('m1')!, K8S_PATHS.adminKubeconfig).content;
    const endpoint = inv.cluster.controlPlaneEndpoint;
    expect(server(onMaster)).toBe(endpoint ? `https://${endpoint}` : 'https://127.0.0.1:6443');
    expect(server(local[0]!.content)).toBe(endpoint ? `https://${endpoint}` : 'https://10.0.0.1:6443');
    expect(kubeconfigParts({ path: '', content: local[0]!.content, mode: 0 }).certPem).toBe(
      kubeconfigParts({ path: '', content: onMaster, mode: 0 }).certPem,
    );
  });

  it('runs the local balancer only without a control-plane endpoint', () => {
    for (const files of hosts.values())
      expect(files.some((f) => f.path === K8S_PATHS.haproxyConfig)).toBe(!inv.cluster.controlPlaneEndpoint);
  });
});
