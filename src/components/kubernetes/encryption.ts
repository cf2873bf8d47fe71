import { render } from '../../engine/template.js';
import { ENCRYPTION_KEY_BYTES } from '../../pki/encryption-key.js';

/** secretbox (XSalsa20 + Poly1305) by default; aescbc for those who need AES. Both take 32-byte keys. */
export type EncryptionProvider = 'secretbox' | 'aescbc';

/**
 * The name stored with every encrypted Secret (k8s:enc:<provider>:v1:<name>:...). It must not
 * change while Secrets written with it exist, so it is a constant.
 */
export const ENCRYPTION_KEY_NAME = 'kubesmith-1';

/**
 * The apiserver's EncryptionConfiguration for Secrets. The result holds the key: install it 0600
 * and never show it in a diff or a log. An unfit key is refused without echoing it.
 */
export function renderEncryptionConfig(key: Buffer, provider: EncryptionProvider = 'secretbox'): string {
  if (key.length !== ENCRYPTION_KEY_BYTES)
    throw new Error(`encryption key: ${key.length} bytes, wanted ${ENCRYPTION_KEY_BYTES}`);
  return render('kube-apiserver/encryption-config.yaml', {
    provider,
    keyName: ENCRYPTION_KEY_NAME,
    secret: key.toString('base64'),
  });
}

export function renderAuditPolicy(): string {
  return render('kube-apiserver/audit-policy.yaml', {});
}
