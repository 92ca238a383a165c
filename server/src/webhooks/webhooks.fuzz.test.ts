import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/app.js';
import { signCalcomBody } from './webhooks.signature.js';
import { bookingBody, createTenant, setWebhookSecret } from './webhooks.test-support.js';

const SECRET = 'whsec_fuzz_tenant_000000000000000000';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await setWebhookSecret(t, await createTenant(t, 'fuzz'), SECRET);
});
afterAll(() => t.close());

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const NASTY = ['\u0000', '\ud800', '\u202e', '"', '\\', '<script>', '%00', '../../', '9'.repeat(400), '-1', '1e309', 'null', '0000-00-00T00:00:00Z', '2026-02-31T10:00:00Z', '275760-09-13T00:00:00Z'];

function randomValue(r: () => number, depth = 0): unknown {
  switch (Math.floor(r() * (depth > 3 ? 6 : 9))) {
    case 0: return null;
    case 1: return r() > 0.5;
    case 2: return [0, -1, 2 ** 31, 2 ** 53 + 1, 1.5, -0, 1e308][Math.floor(r() * 7)];
    case 3: return NASTY[Math.floor(r() * NASTY.length)];
    case 4: return 'x'.repeat(Math.floor(r() * 3000));
    case 5: return ['BOOKING_CREATED', 'BOOKING_CANCELLED', 'BOOKING_NO_SHOW_UPDATED', 'MEETING_ENDED', 'ACCEPTED', 'fuzz', 'calbridge_tenant'][Math.floor(r() * 7)];
    case 6: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const keys = ['uid', 'bookingUid', 'startTime', 'endTime', 'attendees', 'email', 'noShow', 'metadata', 'status', 'eventTypeId', 'rescheduleUid', 'organizer', 'title', '__proto__', 'constructor', 'calbridge_tenant'];
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 6) }, () => [keys[Math.floor(r() * keys.length)]!, randomValue(r, depth + 1)]));
    }
  }
}

/** Mutates a good booking body: replaces one field of the payload with something random. */
function mutated(r: () => number, i: number): string {
  const good = JSON.parse(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: `fz-${i}`, metadata: { calbridge_tenant: 'fuzz', cb_receipt: 'r' } })) as { triggerEvent: unknown; createdAt: unknown; payload: Record<string, unknown> };
  const fields = ['uid', 'startTime', 'endTime', 'attendees', 'metadata', 'status', 'eventTypeId', 'rescheduleUid', 'organizer', 'title', 'bookingId', 'cancellationReason'];
  const target = r();
  if (target < 0.1) good.triggerEvent = randomValue(r);
  else if (target < 0.2) good.createdAt = randomValue(r);
  else if (target < 0.25) good.payload = randomValue(r) as Record<string, unknown>;
  else good.payload[fields[Math.floor(r() * fields.length)]!] = randomValue(r);
  if (r() < 0.2) good.triggerEvent = ['BOOKING_NO_SHOW_UPDATED', 'MEETING_STARTED', 'BOOKING_RESCHEDULED', 'OOO_CREATED'][Math.floor(r() * 4)];
  return JSON.stringify(good);
}

/** The only reasons a verified delivery may be refused: none of them is about its shape (Cal.com never resends a refused one). */
const ALLOWED_REFUSALS = ['tenant_mismatch', 'stale_delivery', 'future_delivery'];

describe('webhook intake under fuzzed input', () => {
  it('when signed bodies are mutated at random, then every one is stored and acknowledged unless its tenant or date is refused, never a 5xx', async () => {
    const r = rng(2026);
    let stored = 0;
    const inboxBefore = (await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_inbox')).rows[0]!.n;
    for (let i = 0; i < 400; i++) {
      const body = mutated(r, i);
      const res = await request(t.app).post('/v1/webhooks/calcom/fuzz').set('Content-Type', 'application/json').set('X-Cal-Signature-256', signCalcomBody(body, SECRET)).send(body);
      if (res.status >= 400) {
        expect(ALLOWED_REFUSALS, `${res.status} ${res.body.code}: ${body.slice(0, 300)}`).toContain(res.body.code);
        continue;
      }
      expect(res.status, body.slice(0, 300)).toBe(200);
      if (!res.body.duplicate) stored += 1;
    }
    // Most mutations leave the tenant and the date alone: the bulk is stored, readable or not.
    expect(stored).toBeGreaterThan(300);
    const inboxAfter = (await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_inbox')).rows[0]!.n;
    expect(inboxAfter - inboxBefore).toBe(stored);
  }, 60_000);

  it('when headers, content types, paths and raw bytes are random, then nothing answers 5xx', async () => {
    const r = rng(99);
    const slugs = ['fuzz', 'FUZZ', 'no-such', '%2e%2e', 'a'.repeat(300), 'fuzz%00', '-'];
    const headers = [undefined, '', 'no-secret-provided', 'z'.repeat(64), 'ab', 'sha256=' + 'a'.repeat(64), ' '.repeat(10), 'a'.repeat(64) + ',' + 'b'.repeat(64)];
    const types = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', undefined];
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 2000) }, () => Math.floor(r() * 256)));
      const body = i % 3 === 0 ? bytes : Buffer.from(JSON.stringify(randomValue(r)) ?? '');
      const slug = slugs[i % slugs.length]!;
      let req = request(t.app).post(`/v1/webhooks/calcom/${slug}`);
      const type = types[i % types.length];
      req = type ? req.set('Content-Type', type) : req.set('Content-Type', 'application/octet-stream');
      const header = headers[Math.floor(r() * headers.length)];
      if (header !== undefined) req = req.set('X-Cal-Signature-256', header);
      if (i % 17 === 0) req = req.set('Content-Encoding', ['gzip', 'br', 'identity', 'x-unknown'][i % 4]!);
      // Sign a third of them properly so the parser and the projection see garbage too.
      if (i % 3 === 1 && slug === 'fuzz') req = req.set('X-Cal-Signature-256', signCalcomBody(body, SECRET));
      const res = await req.send(body);
      expect(res.status, `${slug} ${type} ${header}`).toBeLessThan(500);
      // Properly signed and readable by the body parser: acknowledged whatever the bytes are.
      if (i % 3 === 1 && slug === 'fuzz' && i % 17 !== 0 && res.status >= 400) expect(ALLOWED_REFUSALS, `${res.status} ${res.body.code}`).toContain(res.body.code);
    }
  }, 60_000);
});
