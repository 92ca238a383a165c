import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import request from 'supertest';
import { createKeyRing } from '../crypto/keyring.js';
import { insertSecret, retireSecrets } from '../tenants/tenant-secrets.repository.js';
import { asAdmin, type TestApp } from '../test-support/app.js';
import { signCalcomBody } from './webhooks.signature.js';

// Helpers shared by the webhook and booking tests (not a test file itself).

const FIXTURES = new URL('../../../test/fixtures/webhooks/', import.meta.url);

export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

export interface Vector {
  description: string;
  secret: string;
  body: string;
  header: string | null;
  expected: { status: number; code: string | null };
}

/** Creates a tenant and returns its id. */
export async function createTenant(t: TestApp, slug: string): Promise<string> {
  const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [] });
  if (res.status !== 201) throw new Error(`tenant ${slug}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Gives a tenant exactly this webhook secret (older ones start their grace period). */
export async function setWebhookSecret(t: TestApp, tenantId: string, secret: string): Promise<void> {
  const keyring = createKeyRing(t.config.encryptionKeys);
  const now = t.clock.now();
  await t.database.db.withTenant(tenantId, async (tx) => {
    await retireSecrets(tx, 'webhook_secret', now, new Date(now.getTime() + t.config.webhookSecretGraceSeconds * 1000));
    await insertSecret(tx, tenantId, 'webhook_secret', keyring.encrypt(secret, { tenantId, purpose: 'webhook_secret' }), keyring.currentKeyId);
  });
}

type BookingPayload = Record<string, unknown>;
const base = fixture<{ payload: BookingPayload }>('booking-created.json').payload;

/** A Cal.com-shaped delivery body (default `JSON.stringify({ triggerEvent, createdAt, payload })`). */
export function calcomBody(triggerEvent: string, createdAt: string | Date, payload: BookingPayload = {}): string {
  return JSON.stringify({ triggerEvent, createdAt: new Date(createdAt).toISOString(), payload });
}

/** A booking delivery: the fixture booking with these fields changed. */
export function bookingBody(triggerEvent: string, createdAt: string | Date, fields: BookingPayload = {}): string {
  const status = triggerEvent === 'BOOKING_CANCELLED' ? 'CANCELLED' : triggerEvent === 'BOOKING_REJECTED' ? 'REJECTED' : triggerEvent === 'BOOKING_REQUESTED' ? 'PENDING' : 'ACCEPTED';
  return calcomBody(triggerEvent, createdAt, { ...base, status, ...fields });
}

/** Posts a delivery signed with `secret` (or with the raw header given), its bytes exactly as given. */
export function deliver(app: Express, slug: string, body: string, signing: { secret: string } | { header: string | null }) {
  const header = 'secret' in signing ? signCalcomBody(body, signing.secret) : signing.header;
  const req = request(app).post(`/v1/webhooks/calcom/${slug}`).set('Content-Type', 'application/json').set('X-Cal-Webhook-Version', '2021-10-20');
  if (header !== null) req.set('X-Cal-Signature-256', header);
  // A string goes out as is; a Buffer with a JSON content type would be re-serialised by superagent.
  return req.send(body);
}
