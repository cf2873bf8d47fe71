import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RENEW_BEFORE_DAYS } from '../pki/store.js';
import { type CertReading, certInfo, pemCertificates } from './read.js';

export type CertStatus = 'ok' | 'warn' | 'fail';

/** One line of `certs check`: a certificate on a host, judged. */
export interface CertRow {
  host: string;
  file: string;
  /** Its copy in the deploy machine's store: pki/<id>.crt. */
  id: string;
  subject?: string;
  issuer?: string;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  daysLeft?: number;
  status: CertStatus;
  /** Why it is not ok: near expiry, expired, differs from the store, missing, unreadable. */
  notes: string[];
}

const DAY_MS = 86_400_000;

/** Fingerprints of the store's certificates (the first in each file), by id; absent ids are left out. */
export async function storeFingerprints(pkiDir: string, ids: Iterable<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const id of new Set(ids)) {
    const text = await readFile(join(pkiDir, `${id}.crt`), 'utf8').catch(() => undefined);
    const first = text ? pemCertificates(text)[0] : undefined;
    if (first) found.set(id, certInfo(first).fingerprint);
  }
  return found;
}

/**
 * Judges every reading: expired (or missing, unreadable) fails; under RENEW_BEFORE_DAYS warns;
 * a first certificate that differs from the store's copy warns (the host was not given the
 * current one, or someone changed it there).
 */
export function judgeCerts(
  readings: readonly CertReading[],
  store: ReadonlyMap<string, string>,
  now: Date,
): CertRow[] {
  return readings.map((r): CertRow => {
    const base = { host: r.host, file: r.file, id: r.id };
    if ('problem' in r) return { ...base, status: 'fail', notes: [`${r.problem}: ${r.detail}`] };
    const { cert } = r;
    const daysLeft = Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS);
    const notes: string[] = [];
    let status: CertStatus = 'ok';
    const warn = (note: string) => {
      notes.push(note);
      if (status === 'ok') status = 'warn';
    };
    if (cert.notAfter.getTime() <= now.getTime()) {
      status = 'fail';
      notes.push(`expired ${-daysLeft} day(s) ago`);
    } else if (daysLeft < RENEW_BEFORE_DAYS)
      warn(`expires within ${RENEW_BEFORE_DAYS} days: kubesmith certs renew`);
    if (cert.notBefore.getTime() > now.getTime()) warn('not valid yet (clock skew?)');
    // A second certificate in a file (a bundle) has no single copy to compare with.
    if (!r.file.includes('#')) {
      const stored = store.get(r.id);
      if (!stored) warn(`no copy in the deploy machine's pki/${r.id}.crt`);
      else if (stored !== cert.fingerprint) warn(`differs from the deploy machine's pki/${r.id}.crt`);
    }
    return {
      ...base,
      subject: cert.subject,
      issuer: cert.issuer,
      serial: cert.serial,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      daysLeft,
      status,
      notes,
    };
  });
}
