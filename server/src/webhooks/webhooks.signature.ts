import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What Cal.com puts in `X-Cal-Signature-256` when the webhook has no secret. */
const UNSIGNED_MARKER = 'no-secret-provided';

export type SignatureCheck = 'valid' | 'signature_missing' | 'signature_invalid' | 'unsigned_delivery';

/** Never a tenant's secret: stands in so that every check costs the same work. */
const FILLER_SECRET = randomBytes(32).toString('base64url');

/** Each check computes at least this many HMACs, so one or two secrets, or none, take the same time. */
const MIN_HMACS = 2;

/**
 * Verifies Cal.com's signature: lowercase hex HMAC-SHA256 of the exact body,
 * against every secret that is valid now (current and grace-period), over the
 * decoded bytes with a constant-time compare. Runs before the body is parsed.
 * An empty `secrets` list (an unknown tenant, or one with no secret yet) does
 * the same work and never verifies.
 */
export function checkCalcomSignature(body: Buffer, header: string | undefined, secrets: readonly string[]): SignatureCheck {
  const value = header?.trim() ?? '';
  const given = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.alloc(32);
  let valid = false;
  const n = Math.max(MIN_HMACS, secrets.length);
  for (let i = 0; i < n; i++) {
    const secret = secrets[i];
    const expected = createHmac('sha256', secret ?? FILLER_SECRET).update(body).digest();
    // No early exit: the loop costs the same whichever secret matches.
    valid = (timingSafeEqual(expected, given) && secret !== undefined) || valid;
  }
  if (value === '') return 'signature_missing';
  if (value === UNSIGNED_MARKER) return 'unsigned_delivery';
  if (given.length !== 32 || !/^[0-9a-fA-F]{64}$/.test(value)) return 'signature_invalid';
  return valid ? 'valid' : 'signature_invalid';
}

/** Signs a body as Cal.com does; for tests, fixtures and the bench. */
export function signCalcomBody(body: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
