import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signedHeaders } from './standard-webhooks.js';
import { verifyStandardWebhook, WebhookVerificationError } from './test-support/standard-webhooks.reference.js';

interface Vector {
  description: string;
  secret: string;
  id: string;
  timestamp: number;
  now: number;
  body: string;
  signature: string | null;
  expected: string | null;
  /** Our signer, given `signingSecrets` (default [secret]), must produce exactly `signature`. */
  signs?: boolean;
  signingSecrets?: string[];
}

const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/standard-webhooks-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

function outcome(v: Vector): string | null {
  try {
    verifyStandardWebhook(v.secret, { 'webhook-id': v.id, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': v.signature ?? undefined }, v.body, v.now);
    return null;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.code;
    throw err;
  }
}

describe('Standard Webhooks vectors (reference verification)', () => {
  for (const v of vectors) {
    it(`${v.description}: ${v.expected ?? 'verifies'}`, () => {
      expect(outcome(v)).toBe(v.expected);
    });
  }
});

describe('our signer', () => {
  for (const v of vectors.filter((x) => x.signs !== undefined)) {
    it(`when signing "${v.description}", then the header is the vector's`, () => {
      const headers = signedHeaders(v.signingSecrets ?? [v.secret], v.id, v.timestamp, v.body);
      expect(headers).toEqual({ 'webhook-id': v.id, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': v.signature });
    });
  }

  it('when a fresh secret signs, then the reference verification accepts it and the secret has the whsec_ form with 32 key bytes', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const headers = signedHeaders([secret], 'msg_1', 1_700_000_000, '{"a":1}');
    expect(() => verifyStandardWebhook(secret, headers, '{"a":1}', 1_700_000_010)).not.toThrow();
  });
});
