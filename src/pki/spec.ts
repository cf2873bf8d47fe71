import type { Inventory } from '../inventory/schema.js';
import type { CertRequest } from './x509.js';

/** One certificate of the cluster: its file name under pki/ (without .crt/.key) and what it must say. */
export interface CertSpec {
  id: string;
  /** The CA that signs it; absent for a CA. */
  issuer?: string;
  request: CertRequest;
}

export const CA = { kubernetes: 'ca', etcd: 'etcd/ca', frontProxy: 'front-proxy-ca' } as const;

export const etcdServerCert = (member: string) => `etcd/server-${member}`;
export const etcdPeerCert = (member: string) => `etcd/peer-${member}`;
export const ETCD_KUBESMITH_CLIENT = 'etcd/kubesmith-client';
export const APISERVER_ETCD_CLIENT = 'apiserver-etcd-client';

/**
 * Separate CAs, as kubeadm has them: a leaked etcd client cert cannot reach the
 * Kubernetes API, and the front proxy cannot impersonate a client of either.
 */
export function cas(inv: Inventory): CertSpec[] {
  const validityDays = inv.cluster.certificates.caValidityDays;
  return [
    { id: CA.kubernetes, request: { commonName: 'kubernetes', isCa: true, validityDays } },
    { id: CA.etcd, request: { commonName: 'etcd-ca', isCa: true, validityDays } },
    { id: CA.frontProxy, request: { commonName: 'front-proxy-ca', isCa: true, validityDays } },
  ];
}

/** Server and peer certs per etcd member, and the clients that talk to etcd. */
export function etcdCerts(inv: Inventory): CertSpec[] {
  const validityDays = inv.cluster.certificates.certValidityDays;
  const members = inv.hosts.filter((h) => h.roles.includes('etcd'));
  const memberCerts = members.flatMap((m): CertSpec[] => {
    const names = { dnsNames: [m.name, 'localhost'], ipAddresses: [m.address, '127.0.0.1', '::1'] };
    return [
      {
        id: etcdServerCert(m.name),
        issuer: CA.etcd,
        request: { commonName: m.name, ...names, usages: ['server', 'client'], validityDays },
      },
      {
        id: etcdPeerCert(m.name),
        issuer: CA.etcd,
        request: { commonName: m.name, ...names, usages: ['server', 'client'], validityDays },
      },
    ];
  });
  return [
    ...memberCerts,
    {
      id: ETCD_KUBESMITH_CLIENT,
      issuer: CA.etcd,
      request: { commonName: 'kubesmith-etcd-client', usages: ['client'], validityDays },
    },
    {
      id: APISERVER_ETCD_CLIENT,
      issuer: CA.etcd,
      request: { commonName: 'kube-apiserver-etcd-client', usages: ['client'], validityDays },
    },
  ];
}
