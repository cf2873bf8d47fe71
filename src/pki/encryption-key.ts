import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The key that encrypts Secrets at rest (aescbc and secretbox both take 32 bytes). */
export const ENCRYPTION_KEY_BYTES = 32;
/** Where the key is kept on the deploy machine, inside the cluster's pki/ directory (0600). */
export const ENCRYPTION_KEY_FILE = 'encryption-key';

/** A fresh random key. */
export function generateEncryptionKey(): Buffer {
  return randomBytes(ENCRYPTION_KEY_BYTES);
}

export interface EncryptionKey {
  key: Buffer;
  created: boolean;
}

/**
 * The cluster's encryption key: read from pki/encryption-key (base64), or generated and, with
 * persist, written 0600. Every master must get the same key, and the key must never change once
 * Secrets are written with it, so an unreadable file is an error, never a reason to make a new one.
 * Errors name the file, never its content.
 */
export async function ensureEncryptionKey(
  dir: string,
  options: { persist: boolean },
): Promise<EncryptionKey> {
  const file = join(dir, ENCRYPTION_KEY_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`pki: cannot read ${file}: ${error.code ?? error.message}`);
  });
  if (text !== undefined) {
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== ENCRYPTION_KEY_BYTES || key.toString('base64') !== text.trim())
      throw new Error(
        `pki: ${file} does not hold a base64 ${ENCRYPTION_KEY_BYTES}-byte key; restore it from a backup (a new key cannot read Secrets already encrypted)`,
      );
    return { key, created: false };
  }
  const key = generateEncryptionKey();
  if (options.persist) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, `${key.toString('base64')}\n`, { mode: 0o600 });
    await rename(tmp, file);
  }
  return { key, created: true };
}
