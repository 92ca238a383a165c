import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh random token with a readable prefix, e.g. `cbt_…` (admin) or a webhook secret. */
export function randomToken(prefix = '', bytes = 32): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * Compares two secrets in time independent of where they differ. Hashing
 * first makes the inputs equal-length, so their lengths do not leak either.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
