import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueUserCert } from '../../../src/pki/user-cert.js';
import {
  readUserRecords,
  removeUserKubeconfig,
  saveUserRecord,
  userKubeconfigFile,
} from '../../../src/pki/user-records.js';
import { issue } from '../../../src/pki/x509.js';

const ca = await issue({ commonName: 'kubernetes', isCa: true, validityDays: 100 });
const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe("the deploy machine's user records", () => {
  it('keeps the kubeconfig 0600 in a 0700 folder, and the certificate for --list', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-users-'));
    const first = await issueUserCert(ca, { user: 'alice', group: 'dev', days: 30 });
    const saved = await saveUserRecord(dir, 'alice', { kubeconfig: 'secret: yes\n', certPem: first.certPem });
    expect(saved).toEqual({ kubeconfigFile: join(dir, 'users', 'alice.kubeconfig') });
    expect(await mode(saved.kubeconfigFile)).toBe(0o600);
    expect(await mode(join(dir, 'users'))).toBe(0o700);
    expect(await readFile(saved.kubeconfigFile, 'utf8')).toBe('secret: yes\n');

    const records = await readUserRecords(dir);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ user: 'alice', groups: ['dev'], hasKubeconfig: true });
  });

  it('says which certificate a new one replaced (still valid until it expires)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-users-'));
    const first = await issueUserCert(ca, { user: 'bob', days: 10 });
    await saveUserRecord(dir, 'bob', { kubeconfig: 'a', certPem: first.certPem });
    const second = await issueUserCert(ca, { user: 'bob', days: 20 });
    const saved = await saveUserRecord(dir, 'bob', { kubeconfig: 'b', certPem: second.certPem });
    expect(saved.replaced?.user).toBe('bob');
    const [record] = await readUserRecords(dir);
    expect(record!.notAfter.getTime()).toBeGreaterThan(saved.replaced!.notAfter.getTime());
  });

  it('removes the key on revoke and keeps the certificate record; unreadable files are skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-users-'));
    const pair = await issueUserCert(ca, { user: 'carol', days: 5 });
    await saveUserRecord(dir, 'carol', { kubeconfig: 'k', certPem: pair.certPem });
    await writeFile(join(dir, 'users', 'junk.crt'), 'not a certificate');
    expect(await removeUserKubeconfig(dir, 'carol')).toBe(true);
    expect(await removeUserKubeconfig(dir, 'carol')).toBe(false);
    await expect(stat(userKubeconfigFile(dir, 'carol'))).rejects.toThrow(/ENOENT/);
    expect(await readUserRecords(dir)).toEqual([
      expect.objectContaining({ user: 'carol', hasKubeconfig: false }),
    ]);
  });

  it('has no records before any user was issued', async () => {
    expect(await readUserRecords(await mkdtemp(join(tmpdir(), 'ks-users-')))).toEqual([]);
  });
});
