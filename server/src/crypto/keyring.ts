import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM under a key ring. The first key encrypts; every key decrypts,
 * so a new key can be put first and old ciphertexts still open until they
 * are re-encrypted. The tenant id and the secret's purpose are bound as
 * additional authenticated data: a ciphertext copied to another tenant's
 * row, or into another kind of secret, fails to decrypt.
 *
 * Format: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
export interface KeyRing {
  encrypt(plaintext: string, context: SecretContext): string;
  decrypt(sealed: string, context: SecretContext): string;
  /** The id of the key new ciphertexts are made with. */
  readonly currentKeyId: string;
  /** The id of the key a ciphertext was made with (for re-encryption sweeps). */
  keyIdOf(sealed: string): string;
}

interface SecretContext {
  tenantId: string;
  purpose: string;
}

export class DecryptionFailed extends Error {
  override name = 'DecryptionFailed';
}

const aad = (c: SecretContext) => Buffer.from(`calbridge:v1:${c.tenantId}:${c.purpose}`, 'utf8');

export function createKeyRing(keys: { id: string; key: Buffer }[]): KeyRing {
  if (keys.length === 0) throw new Error('a key ring needs at least one key');
  for (const k of keys) if (k.key.length !== 32) throw new Error(`key ${k.id} is not 32 bytes`);
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const current = keys[0]!;
  return {
    currentKeyId: current.id,
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(aad(context));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', current.id, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join('.');
    },
    decrypt(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new DecryptionFailed('unknown ciphertext format');
      const key = byId.get(parts[1]!);
      if (!key) throw new DecryptionFailed(`no key with id ${parts[1]} in the key ring`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'));
        decipher.setAAD(aad(context));
        decipher.setAuthTag(Buffer.from(parts[4]!, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw new DecryptionFailed('ciphertext does not authenticate for this tenant and purpose', { cause });
      }
    },
    keyIdOf(sealed) {
      return sealed.split('.')[1] ?? '';
    },
  };
}
