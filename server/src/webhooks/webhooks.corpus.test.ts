import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, asMetrics, createTestApp, type TestApp } from '../test-support/app.js';
import { signCalcomBody } from './webhooks.signature.js';
import { createTenant, fixture, setWebhookSecret } from './webhooks.test-support.js';

// Deliveries built the way Cal.com's own code builds them (test/fixtures/webhooks/corpus.json,
// each scenario naming its source), posted signed: every one must be acknowledged, and the
// bookings must end in the states Cal.com's data implies.

interface Delivery {
  body?: unknown;
  raw?: string;
  contentType?: string;
  expectAfter?: Record<string, BookingExpectation>;
}
interface BookingExpectation {
  status?: string;
  metadata?: Record<string, unknown>;
  metadataLengths?: Record<string, number>;
  [field: string]: unknown;
}
interface Scenario {
  description: string;
  source: string;
  deliveries: Delivery[];
  expect: { bookings: Record<string, BookingExpectation>; unprocessed: number };
}
const corpus = fixture<{ tenant: string; now: string; scenarios: Scenario[] }>('corpus.json');

/** `{{repeat:c:n}}` stands for c repeated n times (keeps long values out of the fixture file). */
function expand(v: unknown): unknown {
  const one = (s: string) => s.replace(/\{\{repeat:(.):(\d+)\}\}/g, (_m, c: string, n: string) => c.repeat(Number(n)));
  if (typeof v === 'string') return one(v);
  if (Array.isArray(v)) return v.map(expand);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [one(k), expand(x)]));
  return v;
}

const SECRET = 'whsec_corpus_tenant_0000000000000000';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  t.clock.set(corpus.now);
  await setWebhookSecret(t, await createTenant(t, corpus.tenant), SECRET);
});
afterAll(() => t.close());

function post(d: Delivery) {
  const body = d.raw ?? JSON.stringify(expand(d.body));
  return request(t.app)
    .post(`/v1/webhooks/calcom/${corpus.tenant}`)
    .set('Content-Type', d.contentType ?? 'application/json')
    .set('X-Cal-Webhook-Version', '2021-10-20')
    .set('X-Cal-Signature-256', signCalcomBody(body, SECRET))
    .send(body);
}

async function unprocessedCount(): Promise<number> {
  const log = await request(t.app).get(`/v1/admin/tenants/${corpus.tenant}/webhook-deliveries?limit=200`).set(asAdmin);
  return log.body.data.filter((d: { status: string | null }) => d.status === 'unprocessed').length;
}

async function expectBookings(expected: Record<string, BookingExpectation>) {
  for (const [uid, want] of Object.entries(expected)) {
    const res = await request(t.app).get(`/v1/admin/tenants/${corpus.tenant}/bookings/${uid}`).set(asAdmin);
    expect(res.status, uid).toBe(200);
    const { metadata, metadataLengths, ...fields } = expand(want) as BookingExpectation;
    expect(res.body, uid).toMatchObject(fields);
    if (metadata) expect(res.body.metadata, uid).toMatchObject(metadata);
    for (const [k, n] of Object.entries(metadataLengths ?? {})) expect(String(res.body.metadata?.[k]).length, `${uid} ${k}`).toBe(n);
  }
}

describe('a corpus of Cal.com-built deliveries (test/fixtures/webhooks/corpus.json)', () => {
  for (const s of corpus.scenarios) {
    it(`when ${s.description}, then every delivery answers 2xx and the bookings end as Cal.com's data implies`, async () => {
      const before = await unprocessedCount();
      for (const d of s.deliveries) {
        if (d.expectAfter) {
          await expectBookings(d.expectAfter);
          continue;
        }
        const res = await post(d);
        expect(res.status, `${s.description}: ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(300);
        expect(res.body).toEqual({ received: true, duplicate: false });
      }
      await expectBookings(s.expect.bookings);
      expect(await unprocessedCount()).toBe(before + s.expect.unprocessed);
    });
  }

  it('when the whole corpus was delivered, then nothing verified was refused and the metrics say so', async () => {
    const metrics = await request(t.app).get('/metrics').set(asMetrics);
    expect(metrics.text).not.toMatch(/calbridge_webhook_deliveries_total\{outcome="(rejected|stale)"/);
    expect(metrics.text).toMatch(/calbridge_webhook_deliveries_total\{outcome="unprocessed",code="invalid_payload"\} [1-9]/);
  });
});
