import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ENCRYPTION_KEY_FILE,
  ensureEncryptionKey,
  generateEncryptionKey,
} from '../../../src/pki/encryption-key.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ks-enc-'));

describe('encryption key', () => {
  it('generates 32 random bytes', () => {
    const a = generateEncryptionKey();
    expect(a).toHaveLength(32);
    expect(a.equals(generateEncryptionKey())).toBe(false);
  });

  it('is made once, kept 0600 in base64, and reused', async () => {
    const dir = tmp();
    const first = await ensureEncryptionKey(dir, { persist: true });
    expect(first.created).toBe(true);
    const file = join(dir, ENCRYPTION_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.key.toString('base64'));
    const second = await ensureEncryptionKey(dir, { persist: true });
    expect(second).toEqual({ key: first.key, created: false });
  });

  it('writes nothing in dry-run', async () => {
    const dir = tmp();
    await ensureEncryptionKey(dir, { persist: false });
    expect(() => statSync(join(dir, ENCRYPTION_KEY_FILE))).toThrow();
  });

  it('refuses a damaged key file instead of replacing it, naming the file but not its content', async () => {
    const dir = tmp();
    const damaged = Buffer.alloc(16, 7).toString('base64');
    writeFileSync(join(dir, ENCRYPTION_KEY_FILE), damaged, { mode: 0o600 });
    const attempt = ensureEncryptionKey(dir, { persist: true });
    await expect(attempt).rejects.toThrow(/encryption-key does not hold a base64 32-byte key/);
    await expect(attempt).rejects.not.toThrow(damaged);
    expect(readFileSync(join(dir, ENCRYPTION_KEY_FILE), 'utf8')).toBe(damaged);
  });
});
