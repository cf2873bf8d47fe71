import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { RETIRED_DIR, ROTATION_DIR } from '../pki/rotation.js';
import { RENEW_BEFORE_DAYS } from '../pki/store.js';
import { describeCert } from '../pki/x509.js';
import type { Check, CheckStatus } from './report.js';

/** A certificate of the store: when it expires, or why it could not be read. */
export type IssuedCert = { file: string; notAfter: Date } | { file: string; unreadable: string };
type ReadCert = Extract<IssuedCert, { notAfter: Date }>;

const DAY_MS = 86_400_000;
export const EXPIRY_WARN_DAYS = 30;
const SHOWN = 5;

/** Every certificate kubesmith issued for the cluster, as its PKI store on the deploy machine keeps them. */
export async function issuedCerts(pkiDir: string): Promise<IssuedCert[]> {
  const entries = await readdir(pkiDir, { recursive: true, withFileTypes: true }).catch(() => []);
  // A rotation's copies (pki/ca-rotation/) and the CAs it retired (pki/retired/) sign nothing of the cluster's.
  const aside = [join(pkiDir, RETIRED_DIR), join(pkiDir, ROTATION_DIR)];
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.crt'))
    .filter((e) => !aside.some((dir) => `${e.parentPath}/`.startsWith(`${dir}/`)))
    .map((e) => join(e.parentPath, e.name));
  return Promise.all(
    files.map(async (file) => {
      try {
        return {
          file: relative(pkiDir, file),
          notAfter: describeCert(await readFile(file, 'utf8')).notAfter,
        };
      } catch (error) {
        return { file: relative(pkiDir, file), unreadable: (error as Error).message };
      }
    }),
  );
}

/** The earliest expiry of them all: warn within 30 days, fail once expired. */
export function certificateCheck(all: IssuedCert[], now: Date): Check {
  const unreadable = all
    .filter((c) => 'unreadable' in c)
    .map((c) => `${c.file}: ${'unreadable' in c ? c.unreadable : ''}`);
  const certs = all.filter((c): c is ReadCert => 'notAfter' in c);
  if (unreadable.length)
    return {
      id: 'certificates/expiry',
      area: 'certificates',
      status: 'fail',
      summary: `${unreadable.length} certificate(s) in the PKI store cannot be read`,
      evidence: unreadable,
      hint: 'a damaged file in clusters/<name>/pki/: restore it from a backup (backups hold the PKI)',
    };
  const sorted = [...certs].sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
  const first = sorted[0];
  if (!first)
    return {
      id: 'certificates/expiry',
      area: 'certificates',
      status: 'fail',
      summary: 'no certificate found in the PKI store',
      evidence: [],
      hint: 'setup 02 and 04 issue them; is this the deploy machine that set the cluster up?',
    };
  const days = (cert: ReadCert) => Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS);
  const status: CheckStatus = days(first) < 0 ? 'fail' : days(first) < EXPIRY_WARN_DAYS ? 'warn' : 'ok';
  const left = (cert: ReadCert) =>
    days(cert) < 0 ? `expired ${-days(cert)} day(s) ago` : `${days(cert)} day(s) left`;
  return {
    id: 'certificates/expiry',
    area: 'certificates',
    status,
    summary: `earliest of ${certs.length}: ${first.file} on ${first.notAfter.toISOString().slice(0, 10)} (${left(first)})`,
    evidence: sorted.slice(0, SHOWN).map((c) => `${c.file}: ${c.notAfter.toISOString()} (${left(c)})`),
    ...(status !== 'ok'
      ? {
          hint: `setup 02 and 04 reissue leaf certificates that expire within ${RENEW_BEFORE_DAYS} days and roll them out; kubesmith certs renew --ca rotates the CAs before they expire`,
        }
      : {}),
  };
}
