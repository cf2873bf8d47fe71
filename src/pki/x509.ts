import 'reflect-metadata';
import { createPrivateKey, X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** ECDSA P-256 with SHA-256: accepted by etcd, every Kubernetes component and Go's TLS stack. */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

export type Usage = 'server' | 'client';

export interface CertRequest {
  commonName: string;
  organization?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  usages?: Usage[];
  validityDays: number;
  isCa?: boolean;
}

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function subject(req: CertRequest): string {
  const escapeValue = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [
    `CN=${escapeValue(req.commonName)}`,
    ...(req.organization ? [`O=${escapeValue(req.organization)}`] : []),
  ].join(', ');
}

async function importPrivateKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']) as Promise<CryptoKey>;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** Issues a certificate: self-signed when no issuer is given (a CA), otherwise signed by the issuer's key. */
export async function issue(req: CertRequest, issuer?: KeyPair): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 5 * 60_000);
  const notAfter = new Date(notBefore.getTime() + req.validityDays * 86_400_000);
  const extensions: x509.Extension[] = [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)];
  if (req.isCa) {
    extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
    );
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
    );
    const eku = (req.usages ?? []).map((u) =>
      u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    );
    if (eku.length) extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
    const names = [
      ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(req.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  let cert: x509.X509Certificate;
  if (issuer) {
    const issuerCert = new x509.X509Certificate(issuer.certPem);
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey));
    cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: subject(req),
      issuer: issuerCert.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: await importPrivateKey(issuer.keyPem),
      signingAlgorithm: SIGNING,
      extensions,
    });
  } else {
    cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: subject(req),
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGNING,
      extensions,
    });
  }
  return {
    certPem: cert.toString('pem'),
    keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

/** A bare key pair (the service-account signing key). */
export async function keyPair(): Promise<{ publicPem: string; privatePem: string }> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  return {
    publicPem: pem('PUBLIC KEY', await webcrypto.subtle.exportKey('spki', keys.publicKey)),
    privatePem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

/** What a certificate on disk says, read with Node's own X.509 parser. */
export interface CertFacts {
  subject: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** Extended key usages by name: server, client (others as their OID). */
  usages: string[];
  notAfter: Date;
  fingerprint: string;
}

const EKU_NAMES: Record<string, Usage> = {
  '1.3.6.1.5.5.7.3.1': 'server',
  '1.3.6.1.5.5.7.3.2': 'client',
};

export function describeCert(certPem: string): CertFacts {
  const cert = new NodeX509(certPem);
  const sans = (cert.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    subject: cert.subject,
    dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    ipAddresses: sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11).toLowerCase()),
    usages: (cert.keyUsage ?? []).map((oid) => EKU_NAMES[oid] ?? oid),
    notAfter: new Date(cert.validTo),
    fingerprint: cert.fingerprint256,
  };
}

export function isIssuedBy(certPem: string, caPem: string): boolean {
  const cert = new NodeX509(certPem);
  const ca = new NodeX509(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}
