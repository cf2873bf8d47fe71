import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pemCertificates } from '../../../src/certs/read.js';
import { inventorySchema } from '../../../src/inventory/schema.js';
import {
  enterPhase,
  finishRotation,
  ROTATION_STATE,
  readRotation,
  remainingPhases,
} from '../../../src/pki/rotation.js';
import { CA, cas, etcdCerts, etcdServerCert } from '../../../src/pki/spec.js';
import { ensurePki } from '../../../src/pki/store.js';

const inventory = inventorySchema.parse({
  cluster: { name: 'c' },
  hosts: [{ name: 'm1', address: '10.0.0.1', roles: ['etcd', 'master'] }],
});
const specs = [...cas(inventory), ...etcdCerts(inventory)];
const serials = (pem: string) => pemCertificates(pem).map((p) => new X509Certificate(p).serialNumber);
const fileSerial = (file: string) => new X509Certificate(readFileSync(file, 'utf8')).serialNumber;
const server = etcdServerCert('m1');

async function store() {
  const dir = mkdtempSync(join(tmpdir(), 'ks-rotation-'));
  await ensurePki(dir, specs, { persist: true });
  return {
    dir,
    oldCa: fileSerial(join(dir, `${CA.etcd}.crt`)),
    oldLeaf: fileSerial(join(dir, `${server}.crt`)),
  };
}

describe('CA rotation in the PKI store', () => {
  it('trust-both: new CAs beside the old ones, trusted both (current first), the old ones still signing, no leaf reissued', async () => {
    const { dir, oldCa, oldLeaf } = await store();
    const state = await enterPhase(dir, 'trust-both', cas(inventory));
    expect(state).toMatchObject({ phase: 'trust-both', cas: ['ca', 'etcd/ca', 'front-proxy-ca'] });
    expect(statSync(join(dir, 'ca-rotation', 'new', 'etcd', 'ca.key')).mode & 0o777).toBe(0o600);
    const pki = await ensurePki(dir, specs, { persist: true });
    expect(pki.changes).toEqual([]);
    const trusted = serials(pki.trust(CA.etcd));
    expect(trusted).toHaveLength(2);
    expect(trusted[0]).toBe(oldCa);
    expect(trusted[1]).toBe(fileSerial(join(dir, 'ca-rotation', 'new', 'etcd', 'ca.crt')));
    expect(new X509Certificate(pki.get(CA.etcd).certPem).serialNumber).toBe(oldCa);
    expect(fileSerial(join(dir, `${server}.crt`))).toBe(oldLeaf);
    // Repeated (an interrupted run resumed): the same new CAs.
    await enterPhase(dir, 'trust-both', cas(inventory));
    expect(serials((await ensurePki(dir, specs, { persist: false })).trust(CA.etcd))).toEqual(trusted);
  });

  it('new-signing: the new CAs current, the old kept aside and still trusted, every leaf reissued under the new; repeating it changes nothing', async () => {
    const { dir, oldCa, oldLeaf } = await store();
    await enterPhase(dir, 'trust-both', cas(inventory));
    const incoming = fileSerial(join(dir, 'ca-rotation', 'new', 'etcd', 'ca.crt'));
    await enterPhase(dir, 'new-signing', cas(inventory));
    expect(fileSerial(join(dir, `${CA.etcd}.crt`))).toBe(incoming);
    expect(fileSerial(join(dir, 'ca-rotation', 'old', 'etcd', 'ca.crt'))).toBe(oldCa);
    expect(statSync(join(dir, 'ca-rotation', 'old', 'etcd', 'ca.key')).mode & 0o777).toBe(0o600);
    const pki = await ensurePki(dir, specs, { persist: true });
    expect(pki.changes.map((c) => c.id)).toContain(server);
    expect(pki.changes.find((c) => c.id === server)?.reason).toMatch(/not issued by the current etcd\/ca/);
    expect(fileSerial(join(dir, `${server}.crt`))).not.toBe(oldLeaf);
    expect(serials(pki.trust(CA.etcd))).toEqual([incoming, oldCa]);
    await enterPhase(dir, 'new-signing', cas(inventory));
    expect(fileSerial(join(dir, `${CA.etcd}.crt`))).toBe(incoming);
    expect(fileSerial(join(dir, 'ca-rotation', 'old', 'etcd', 'ca.crt'))).toBe(oldCa);
  });

  it('drop-old trusts the new CAs only; finishing keeps the old CAs and the record under retired/', async () => {
    const { dir, oldCa } = await store();
    await enterPhase(dir, 'trust-both', cas(inventory));
    await enterPhase(dir, 'new-signing', cas(inventory));
    await enterPhase(dir, 'drop-old', cas(inventory));
    const pki = await ensurePki(dir, specs, { persist: true });
    expect(serials(pki.trust(CA.etcd))).toEqual([fileSerial(join(dir, `${CA.etcd}.crt`))]);
    const place = await finishRotation(dir);
    expect(place).toMatch(/retired\/ca-rotation-/);
    expect(fileSerial(join(place!, 'ca-rotation', 'old', 'etcd', 'ca.crt'))).toBe(oldCa);
    expect(existsSync(join(place!, ROTATION_STATE))).toBe(true);
    expect(existsSync(join(dir, ROTATION_STATE))).toBe(false);
    expect(existsSync(join(dir, 'ca-rotation'))).toBe(false);
    expect(await readRotation(dir)).toBeUndefined();
    expect(readdirSync(join(dir, 'retired'))).toHaveLength(1);
  });

  it('a swap cut short keeps trusting both sides, and repeating the phase finishes it', async () => {
    const { dir, oldCa } = await store();
    await enterPhase(dir, 'trust-both', cas(inventory));
    const incoming = fileSerial(join(dir, 'ca-rotation', 'new', 'etcd', 'ca.crt'));
    await enterPhase(dir, 'new-signing', cas(inventory));
    // As if the run had died after the record and the old copy, before the current files moved.
    writeFileSync(
      join(dir, 'etcd', 'ca.crt'),
      readFileSync(join(dir, 'ca-rotation', 'old', 'etcd', 'ca.crt')),
    );
    writeFileSync(
      join(dir, 'etcd', 'ca.key'),
      readFileSync(join(dir, 'ca-rotation', 'old', 'etcd', 'ca.key')),
    );
    const cut = await ensurePki(dir, specs, { persist: false });
    expect(new Set(serials(cut.trust(CA.etcd)))).toEqual(new Set([oldCa, incoming]));
    await enterPhase(dir, 'new-signing', cas(inventory));
    expect(fileSerial(join(dir, `${CA.etcd}.crt`))).toBe(incoming);
    expect(fileSerial(join(dir, 'ca-rotation', 'old', 'etcd', 'ca.crt'))).toBe(oldCa);
    expect(serials((await ensurePki(dir, specs, { persist: false })).trust(CA.etcd))).toEqual([
      incoming,
      oldCa,
    ]);
  });

  it('refuses to skip a phase, to go back, and a record it did not write', async () => {
    const { dir } = await store();
    await expect(enterPhase(dir, 'drop-old', cas(inventory))).rejects.toThrow(/no CA rotation is recorded/);
    await expect(enterPhase(dir, 'new-signing', cas(inventory))).rejects.toThrow(/starts with trust-both/);
    await enterPhase(dir, 'trust-both', cas(inventory));
    await expect(enterPhase(dir, 'drop-old', cas(inventory))).rejects.toThrow(/must pass new-signing/);
    await enterPhase(dir, 'new-signing', cas(inventory));
    await expect(enterPhase(dir, 'trust-both', cas(inventory))).rejects.toThrow(
      /does not go back to trust-both/,
    );
    await expect(finishRotation(dir)).rejects.toThrow(/at new-signing, not finished/);
    writeFileSync(join(dir, ROTATION_STATE), '{"phase":"later"}');
    await expect(readRotation(dir)).rejects.toThrow(
      /ca-rotation\.json is not a CA rotation record kubesmith wrote/,
    );
  });

  it('remaining phases: all three for a new rotation, else from the recorded one on', () => {
    expect(remainingPhases(undefined)).toEqual(['trust-both', 'new-signing', 'drop-old']);
    const at = (phase: 'new-signing' | 'drop-old') => ({ phase, startedAt: 'x', cas: ['ca'] });
    expect(remainingPhases(at('new-signing'))).toEqual(['new-signing', 'drop-old']);
    expect(remainingPhases(at('drop-old'))).toEqual(['drop-old']);
  });
});
