import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { z } from 'zod';
import { type SectionedRead, sectionedRead } from '../hostlib/sections.js';
import { sh } from '../transport/quote.js';
import type { HostCertFile } from './host-certs.js';

/** What one certificate says, parsed on the deploy machine. */
export interface CertInfo {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint: string;
}

/** One certificate found on a host (a file may hold several), or why none could be read. */
export type CertReading = { host: string; file: string; id: string } & (
  | { cert: CertInfo }
  | { problem: 'missing' | 'unreadable'; detail: string }
);

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A distinguished name as one line: CN=a, O=b. */
const oneLine = (name: string) => name.split('\n').filter(Boolean).join(', ');

export function certInfo(pem: string): CertInfo {
  const cert = new X509Certificate(pem);
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprint: cert.fingerprint256,
  };
}

/** The certificates of a PEM text, in order (a CA bundle holds several). */
export function pemCertificates(text: string): string[] {
  return text.match(PEM_CERT) ?? [];
}

const kubeconfigSchema = z.object({
  users: z
    .array(z.object({ user: z.object({ 'client-certificate-data': z.string().optional() }).loose() }).loose())
    .default([]),
});

/** The client certificates a kubeconfig embeds (its keys are never kept). */
export function kubeconfigCertificates(text: string): string[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch {
    // YAML errors quote the line they stopped at, which may be a key: say nothing of it.
    throw new Error('not valid YAML');
  }
  const parsed = kubeconfigSchema.safeParse(document);
  if (!parsed.success) throw new Error('not a kubeconfig (no users list)');
  return parsed.data.users.flatMap((u) => {
    const data = u.user['client-certificate-data'];
    return data ? pemCertificates(Buffer.from(data, 'base64').toString('utf8')) : [];
  });
}

/** One command reading every cert file of a host: a section per file, empty when absent. */
export function certsReadScript(files: readonly HostCertFile[]): SectionedRead {
  return sectionedRead(files.map((f, i) => [`c${i}`, sh`cat -- ${f.path} 2>/dev/null || true`] as const));
}

/** A host's read turned into readings, one per certificate found; a file with none says why. */
export function parseCertsRead(
  host: string,
  files: readonly HostCertFile[],
  sections: ReadonlyMap<string, string>,
): CertReading[] {
  return files.flatMap((f, i): CertReading[] => {
    const where = { host, file: f.path, id: f.id };
    const text = sections.get(`c${i}`) ?? '';
    if (text.trim() === '') return [{ ...where, problem: 'missing', detail: 'no such file, or empty' }];
    let pems: string[];
    try {
      pems = f.kind === 'kubeconfig' ? kubeconfigCertificates(text) : pemCertificates(text);
    } catch (error) {
      return [{ ...where, problem: 'unreadable', detail: (error as Error).message }];
    }
    if (pems.length === 0)
      return [{ ...where, problem: 'unreadable', detail: `no certificate in the ${f.kind} file` }];
    return pems.map((pem, n): CertReading => {
      const file = n === 0 ? f.path : `${f.path}#${n + 1}`;
      try {
        return { ...where, file, cert: certInfo(pem) };
      } catch (error) {
        return { ...where, file, problem: 'unreadable', detail: (error as Error).message };
      }
    });
  });
}
