import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyRing, DecryptionFailed } from './keyring.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const ctx = { tenantId: '11111111-1111-4111-8111-111111111111', purpose: 'webhook_secret' };

describe('key ring', () => {
  it('when a secret is sealed, then it opens again and the ciphertext does not contain it', () => {
    const ring = createKeyRing([k1]);
    const sealed = ring.encrypt('s3cret-value', ctx);
    expect(sealed).not.toContain('s3cret');
    expect(ring.decrypt(sealed, ctx)).toBe('s3cret-value');
  });

  it('when a new key is put first, then old ciphertexts still open and new ones use the new key', () => {
    const old = createKeyRing([k1]).encrypt('v', ctx);
    const rotated = createKeyRing([k2, k1]);
    expect(rotated.decrypt(old, ctx)).toBe('v');
    expect(rotated.keyIdOf(rotated.encrypt('v', ctx))).toBe('k2');
  });

  it('when a ciphertext is moved to another tenant, then it does not decrypt', () => {
    const ring = createKeyRing([k1]);
    const sealed = ring.encrypt('v', ctx);
    expect(() => ring.decrypt(sealed, { ...ctx, tenantId: '22222222-2222-4222-8222-222222222222' })).toThrow(DecryptionFailed);
  });

  it('when a ciphertext is used for another purpose, then it does not decrypt', () => {
    const ring = createKeyRing([k1]);
    expect(() => ring.decrypt(ring.encrypt('v', ctx), { ...ctx, purpose: 'calcom_tokens' })).toThrow(DecryptionFailed);
  });

  it('when the key that made a ciphertext is gone from the ring, then it does not decrypt', () => {
    const sealed = createKeyRing([k1]).encrypt('v', ctx);
    expect(() => createKeyRing([k2]).decrypt(sealed, ctx)).toThrow(DecryptionFailed);
  });
});
