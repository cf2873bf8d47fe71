import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ipToBigInt } from '../inventory/net.js';
import { readRotation, trustBundle } from './rotation.js';
import type { CertSpec } from './spec.js';
import { describeCert, isIssuedBy, issue, type KeyPair, keyPair } from './x509.js';

export interface PkiChange {
  id: string;
  action: 'created' | 'reissued';
  reason: string;
}

export interface Pki {
  get(id: string): KeyPair;
  /** The PEM to trust for a CA: its certificate, and during a CA rotation the other side's too. */
  trust(caId: string): string;
  serviceAccount: { publicPem: string; privatePem: string };
  changes: PkiChange[];
}

/** Leaf certs this close to expiry are reissued on the next run. */
export const RENEW_BEFORE_DAYS = 30;

async function readPair(dir: string, id: string): Promise<KeyPair | undefined> {
  try {
    return {
      certPem: await readFile(join(dir, `${id}.crt`), 'utf8'),
      keyPem: await readFile(join(dir, `${id}.key`), 'utf8'),
    };
  } catch {
    return undefined;
  }
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}

function keyMatches(pair: KeyPair): boolean {
  const fromKey = createPublicKey(createPrivateKey(pair.keyPem)).export({ format: 'der', type: 'spki' });
  const fromCert = new X509Certificate(pair.certPem).publicKey.export({ format: 'der', type: 'spki' });
  return Buffer.compare(fromKey, fromCert) === 0;
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** Why an existing leaf cert no longer fits its spec, or undefined when it does. */
export function staleReason(pair: KeyPair, spec: CertSpec, ca: KeyPair | undefined): string | undefined {
  if (!keyMatches(pair)) return 'key does not match the certificate';
  const facts = describeCert(pair.certPem);
  if (ca && !isIssuedBy(pair.certPem, ca.certPem)) return `not issued by the current ${spec.issuer}`;
  const wantedSubject = [
    `CN=${spec.request.commonName}`,
    ...(spec.request.organization ? [`O=${spec.request.organization}`] : []),
  ];
  if (!sameSet(facts.subject.split('\n'), wantedSubject))
    return `subject is ${facts.subject.replace(/\n/g, ', ')}, wanted ${wantedSubject.join(', ')}`;
  if (!sameSet(facts.usages, spec.request.usages ?? []))
    return `usages ${facts.usages.join(',') || 'none'} differ from ${(spec.request.usages ?? []).join(',') || 'none'}`;
  if (!sameSet(facts.dnsNames, spec.request.dnsNames ?? []))
    return `DNS names ${facts.dnsNames.join(',') || 'none'} differ from ${(spec.request.dnsNames ?? []).join(',') || 'none'}`;
  // Node prints IPv6 SANs expanded (0:0:0:0:0:0:0:1): compare addresses, not spellings.
  const canonical = (ip: string) => `${ipToBigInt(ip).family}/${ipToBigInt(ip).value}`;
  const wantedIps = (spec.request.ipAddresses ?? []).map(canonical);
  const haveIps = facts.ipAddresses.map(canonical);
  if (!sameSet(haveIps, wantedIps))
    return `IP addresses ${facts.ipAddresses.join(',') || 'none'} differ from ${(spec.request.ipAddresses ?? []).join(',') || 'none'}`;
  const daysLeft = (facts.notAfter.getTime() - Date.now()) / 86_400_000;
  if (daysLeft < RENEW_BEFORE_DAYS) return `expires in ${Math.max(0, Math.floor(daysLeft))} days`;
  return undefined;
}

/**
 * Makes pki/ hold every cert in specs (CAs first): existing ones are reused, missing ones
 * created, leaves that no longer fit (SANs, issuer, key, near expiry) reissued. With
 * persist false (dry-run) nothing is written. CAs are never replaced silently.
 */
export async function ensurePki(
  dir: string,
  specs: readonly CertSpec[],
  options: {
    persist: boolean;
    /** Leaf ids to reissue even when they still fit (certs renew); naming a CA is an error. */
    reissue?: ReadonlySet<string>;
  },
): Promise<Pki> {
  const pairs = new Map<string, KeyPair>();
  const changes: PkiChange[] = [];
  const ordered = [...specs.filter((s) => !s.issuer), ...specs.filter((s) => s.issuer)];
  for (const id of options.reissue ?? []) {
    const spec = specs.find((s) => s.id === id);
    if (!spec) throw new Error(`pki: cannot reissue ${id}: it is not in the plan`);
    if (!spec.issuer) throw new Error(`pki: ${id} is a CA; CA rotation is a separate, planned operation`);
  }
  for (const spec of ordered) {
    const existing = await readPair(dir, spec.id);
    const ca = spec.issuer ? pairs.get(spec.issuer) : undefined;
    if (spec.issuer && !ca)
      throw new Error(`pki: ${spec.id} needs CA ${spec.issuer}, which is not in the plan`);
    let reason: string | undefined = existing ? undefined : 'missing';
    if (existing && spec.issuer)
      reason =
        staleReason(existing, spec, ca) ?? (options.reissue?.has(spec.id) ? 'renewal requested' : undefined);
    if (existing && !spec.issuer) {
      const left = (describeCert(existing.certPem).notAfter.getTime() - Date.now()) / 86_400_000;
      if (left <= 0 || !keyMatches(existing)) {
        throw new Error(
          `pki: CA ${join(dir, `${spec.id}.crt`)} has expired or does not match its key; CA rotation is a separate, planned operation`,
        );
      }
    }
    if (existing && !reason) {
      pairs.set(spec.id, existing);
      continue;
    }
    const fresh = await issue(spec.request, ca);
    pairs.set(spec.id, fresh);
    changes.push({ id: spec.id, action: existing ? 'reissued' : 'created', reason: reason ?? 'missing' });
    if (options.persist) {
      await writeAtomic(join(dir, `${spec.id}.key`), fresh.keyPem, 0o600);
      await writeAtomic(join(dir, `${spec.id}.crt`), fresh.certPem, 0o644);
    }
  }
  let serviceAccount: Pki['serviceAccount'];
  const saKey = await readFile(join(dir, 'sa.key'), 'utf8').catch(() => undefined);
  if (saKey) {
    serviceAccount = {
      privatePem: saKey,
      publicPem: createPublicKey(createPrivateKey(saKey)).export({ format: 'pem', type: 'spki' }).toString(),
    };
  } else {
    serviceAccount = await keyPair();
    changes.push({ id: 'sa', action: 'created', reason: 'missing' });
    if (options.persist) {
      await writeAtomic(join(dir, 'sa.key'), serviceAccount.privatePem, 0o600);
      await writeAtomic(join(dir, 'sa.pub'), serviceAccount.publicPem, 0o644);
    }
  }
  const rotation = await readRotation(dir);
  const trusted = new Map<string, string>();
  for (const spec of ordered.filter((s) => !s.issuer)) {
    trusted.set(spec.id, await trustBundle(dir, spec.id, pairs.get(spec.id)!.certPem, rotation));
  }
  return {
    serviceAccount,
    changes,
    trust(caId) {
      const pem = trusted.get(caId);
      if (!pem) throw new Error(`pki: no CA ${caId}`);
      return pem;
    },
    get(id) {
      const pair = pairs.get(id);
      if (!pair) throw new Error(`pki: no certificate ${id}`);
      return pair;
    },
  };
}
