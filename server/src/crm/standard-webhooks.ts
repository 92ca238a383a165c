import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the receiver
 * gets `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` of
 * `${id}.${timestamp}.${body}` keyed by the base64-decoded part of the
 * `whsec_` secret. Several signatures are sent while a rotated secret is still
 * in its overlap, so receivers holding either secret verify.
 */

const SECRET_PREFIX = 'whsec_';

/** A new destination secret: `whsec_` and 32 random bytes in base64 (24–64 bytes is the spec's range). */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The key bytes of a `whsec_…` secret. */
function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a Standard Webhooks secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/**
 * One `v1,<base64>` signature of the message under one secret, by the specification's own
 * reference library (`standardwebhooks`); our vectors (fixtures/standard-webhooks-vectors.json)
 * and an independent verifier (test-support) check what it produces.
 */
function signature(secret: string, id: string, timestamp: number, body: string): string {
  secretKey(secret);
  return new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
}

/** The three headers of a delivery, signed with every given secret (current first). */
export function signedHeaders(secrets: string[], id: string, timestamp: number, body: string): Record<string, string> {
  if (secrets.length === 0) throw new Error('at least one secret is needed to sign');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signature(s, id, timestamp, body)).join(' '),
  };
}
