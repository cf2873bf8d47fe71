import { etcdServerCert } from '../../../../src/pki/spec.js';
import type { Pki } from '../../../../src/pki/store.js';
import { describeCert } from '../../../../src/pki/x509.js';

/** Every DNS name and IP address in the issued apiserver cert. */
export function apiserverSans(pki: Pki): Set<string> {
  const facts = describeCert(pki.get('apiserver').certPem);
  return new Set([...facts.dnsNames, ...facts.ipAddresses]);
}

export const etcdServerCertFor = (pki: Pki, member: string) => pki.get(etcdServerCert(member)).certPem;
