import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A receiver's verification, written from the Standard Webhooks
 * specification (not from our signer): read the three headers, refuse a
 * timestamp outside the tolerance in either direction, compute
 * HMAC-SHA256(base64-decoded secret after "whsec_", "id.timestamp.body"),
 * and accept when any space-separated `v1,` signature matches in constant
 * time. Used by the tests as the independent judge of what we send.
 */

export type VerificationCode = 'missing_headers' | 'timestamp_invalid' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature';

export class WebhookVerificationError extends Error {
  constructor(readonly code: VerificationCode) {
    super(code);
  }
}

const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): void {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (!id || !ts || !sigs) throw new WebhookVerificationError('missing_headers');
  if (!/^\d+$/.test(ts)) throw new WebhookVerificationError('timestamp_invalid');
  const timestamp = Number(ts);
  if (timestamp < nowSeconds - toleranceSeconds) throw new WebhookVerificationError('timestamp_too_old');
  if (timestamp > nowSeconds + toleranceSeconds) throw new WebhookVerificationError('timestamp_too_new');
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  for (const versioned of sigs.split(' ')) {
    const [version, b64] = versioned.split(',', 2);
    if (version !== 'v1' || !b64) continue;
    const given = Buffer.from(b64, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new WebhookVerificationError('no_matching_signature');
}
