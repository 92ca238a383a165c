import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, asMetrics, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, calcomBody, createTenant, deliver, fixture, setWebhookSecret, type Vector } from './webhooks.test-support.js';

const vectors = fixture<{ tenant: string; now: string; vectors: Vector[] }>('signature-vectors.json');
const SECRET = vectors.vectors[0]!.secret;

let t: TestApp;
let acmeId: string;
let betaId: string;
beforeAll(async () => {
  t = await createTestApp();
  t.clock.set(vectors.now);
  acmeId = await createTenant(t, 'acme');
  betaId = await createTenant(t, 'beta');
  await setWebhookSecret(t, acmeId, SECRET);
  await setWebhookSecret(t, betaId, 'whsec_beta_only_secret_000000000000');
});
afterAll(() => t.close());

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return (await t.database.owner.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params)).rows[0]!.n;
}

describe('webhook signature vectors (test/fixtures/webhooks/signature-vectors.json)', () => {
  // One executor for every vector: each refusal reason is its own test, asserting on the code.
  for (const v of vectors.vectors) {
    it(`when ${v.description}, then ${v.expected.status} ${v.expected.code ?? 'accepted'}`, async () => {
      const inboxBefore = await count('SELECT 1 FROM webhook_inbox');
      const res = await deliver(t.app, vectors.tenant, v.body, { header: v.header });
      expect(res.status).toBe(v.expected.status);
      if (v.expected.code) {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.code).toBe(v.expected.code);
        expect(await count('SELECT 1 FROM webhook_inbox')).toBe(inboxBefore);
      } else {
        expect(res.body).toEqual({ received: true, duplicate: false });
      }
    });
  }
});

describe('webhook intake', () => {
  it('when the tenant in the URL does not exist, then 404 unknown_tenant and nothing is stored', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'nobody-1' });
    const res = await deliver(t.app, 'no-such-tenant', body, { secret: SECRET });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('unknown_tenant');
    expect(await count("SELECT 1 FROM bookings WHERE uid = 'nobody-1'")).toBe(0);
  });

  it('when the body is larger than 1 MB, then 413 payload_too_large before anything is read', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'big-1', description: 'x'.repeat(1100 * 1024) });
    const res = await deliver(t.app, 'acme', body, { secret: SECRET });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
  });

  it('when the same body arrives twice, then the second answers 200 duplicate and changes nothing', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'dup-1' });
    const first = await deliver(t.app, 'acme', body, { secret: SECRET });
    expect(first.body).toEqual({ received: true, duplicate: false });
    const before = await t.database.owner.query("SELECT * FROM bookings WHERE uid = 'dup-1'");
    const second = await deliver(t.app, 'acme', body, { secret: SECRET });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ received: true, duplicate: true });
    expect((await t.database.owner.query("SELECT * FROM bookings WHERE uid = 'dup-1'")).rows).toEqual(before.rows);
    expect(await count("SELECT 1 FROM webhook_inbox WHERE booking_uid = 'dup-1'")).toBe(1);
    expect(await count("SELECT 1 FROM booking_events WHERE booking_uid = 'dup-1'")).toBe(1);
  });

  it('when a different body carries the same trigger, uid and createdAt, then it is a duplicate event', async () => {
    const at = t.clock.now();
    await deliver(t.app, 'acme', bookingBody('BOOKING_CREATED', at, { uid: 'dup-2', title: 'First' }), { secret: SECRET });
    const res = await deliver(t.app, 'acme', bookingBody('BOOKING_CREATED', at, { uid: 'dup-2', title: 'Second' }), { secret: SECRET });
    expect(res.body.duplicate).toBe(true);
    const got = await request(t.app).get('/v1/admin/tenants/acme/bookings/dup-2').set(asAdmin);
    expect(got.body.title).toBe('First');
  });

  it('when a trigger is unknown, then it is stored and acknowledged', async () => {
    const body = calcomBody('SOMETHING_CAL_ADDS_LATER', t.clock.now(), { whatever: [1, 2, 3] });
    const res = await deliver(t.app, 'acme', body, { secret: SECRET });
    expect(res.status).toBe(200);
    expect(await count("SELECT 1 FROM webhook_inbox WHERE trigger_event = 'SOMETHING_CAL_ADDS_LATER'")).toBe(1);
  });

  it('when a delivery is accepted, then its raw bytes are kept and a booking.changed job is queued in the same transaction', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'outbox-1' });
    await deliver(t.app, 'acme', body, { secret: SECRET });
    const inbox = await t.database.owner.query<{ body: Buffer }>("SELECT body FROM webhook_inbox WHERE booking_uid = 'outbox-1'");
    expect(inbox.rows[0]!.body.toString('utf8')).toBe(body);
    const jobs = await t.database.owner.query<{ payload: { tenantId: string; bookingUid: string; eventId: string } }>(
      "SELECT j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks k ON k.id = j.task_id WHERE k.identifier = 'booking.changed' AND j.payload->>'bookingUid' = 'outbox-1'",
    );
    expect(jobs.rows).toHaveLength(1);
    expect(jobs.rows[0]!.payload).toEqual({ tenantId: acmeId, bookingUid: 'outbox-1', eventId: expect.any(String) });
  });

  it("when a delivery is signed with one tenant's secret, then it verifies for no other tenant", async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'cross-1', metadata: {} });
    const res = await deliver(t.app, 'beta', body, { secret: SECRET });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('signature_invalid');
    expect(await count("SELECT 1 FROM bookings WHERE uid = 'cross-1'")).toBe(0);
  });

  it('when a secret is rotated, then the previous one still verifies during the grace period', async () => {
    await setWebhookSecret(t, acmeId, 'whsec_rotated_acme_1111111111111111');
    try {
      const res = await deliver(t.app, 'acme', bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'grace-1' }), { secret: SECRET });
      expect(res.status).toBe(200);
      const next = await deliver(t.app, 'acme', bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'grace-2' }), { secret: 'whsec_rotated_acme_1111111111111111' });
      expect(next.status).toBe(200);
    } finally {
      await setWebhookSecret(t, acmeId, SECRET);
    }
  });

  it('when the grace period of a rotated-out secret has passed, then deliveries signed with it are refused as signature_invalid', async () => {
    const start = t.clock.now();
    await setWebhookSecret(t, acmeId, 'whsec_rotated_acme_2222222222222222');
    try {
      // Verified once inside the grace period, so this instance has the old secret cached.
      expect((await deliver(t.app, 'acme', bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'grace-3' }), { secret: SECRET })).status).toBe(200);
      t.clock.advance(t.config.webhookSecretGraceSeconds * 1000 + 1000);
      const late = await deliver(t.app, 'acme', bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'grace-4' }), { secret: SECRET });
      expect(late.status).toBe(401);
      expect(late.body.code).toBe('signature_invalid');
      expect(await count("SELECT 1 FROM bookings WHERE uid = 'grace-4'")).toBe(0);
    } finally {
      t.clock.set(start);
      await setWebhookSecret(t, acmeId, SECRET);
    }
  });

  it('when deliveries are refused, then the log lists them by code without their bodies, and metrics count them', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'refused-1', title: 'SECRET-TITLE-MARKER' });
    await deliver(t.app, 'acme', body, { header: 'f'.repeat(64) });
    const log = await request(t.app).get('/v1/admin/tenants/acme/webhook-deliveries?limit=200').set(asAdmin);
    expect(log.status).toBe(200);
    const outcomes = new Set(log.body.data.map((d: { outcome: string; code: string | null }) => `${d.outcome}:${d.code}`));
    for (const o of ['accepted:null', 'duplicate:null', 'rejected:signature_invalid', 'rejected:signature_missing', 'rejected:unsigned_delivery', 'rejected:tenant_mismatch', 'rejected:future_delivery', 'stale:stale_delivery']) {
      expect(outcomes).toContain(o);
    }
    const dump = JSON.stringify((await t.database.owner.query('SELECT encode(body, \'escape\') AS b FROM webhook_inbox')).rows);
    expect(dump).not.toContain('SECRET-TITLE-MARKER');
    expect(t.logLines.join('\n')).not.toContain('SECRET-TITLE-MARKER');
    const metrics = await request(t.app).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_webhook_deliveries_total\{outcome="rejected",code="signature_invalid"\} \d+/);
    expect(metrics.text).toMatch(/calbridge_webhook_deliveries_total\{outcome="accepted",code="none"\} \d+/);
    expect(metrics.text).toMatch(/calbridge_webhook_deliveries_total\{outcome="unprocessed",code="not_json"\} \d+/);
    expect(metrics.text).toContain('calbridge_webhook_intake_duration_seconds_bucket');
  });

  it('when the delivery log is paged, then the cursor continues where the page ended', async () => {
    const first = await request(t.app).get('/v1/admin/tenants/acme/webhook-deliveries?limit=3').set(asAdmin);
    expect(first.body.data).toHaveLength(3);
    const second = await request(t.app).get(`/v1/admin/tenants/acme/webhook-deliveries?limit=3&cursor=${first.body.nextCursor}`).set(asAdmin);
    expect(Number(second.body.data[0].id)).toBeLessThan(Number(first.body.data[2].id));
  });

  it('when the delivery log has more than ten entries, then paging walks them newest first by number, each once', async () => {
    for (let i = 0; i < 12; i++) await deliver(t.app, 'acme', bookingBody('BOOKING_CREATED', t.clock.now(), { uid: `paged-${i}` }), { secret: SECRET });
    const all = (await request(t.app).get('/v1/admin/tenants/acme/webhook-deliveries?limit=200').set(asAdmin)).body.data.map((d: { id: string }) => d.id);
    expect(all.length).toBeGreaterThan(11);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(t.app).get(`/v1/admin/tenants/acme/webhook-deliveries?limit=4${cursor ? `&cursor=${cursor}` : ''}`).set(asAdmin);
      walked.push(...page.body.data.map((d: { id: string }) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(walked).toEqual(all);
    expect(walked.map(Number)).toEqual([...walked.map(Number)].sort((a, b) => b - a));
  });

  it("when a token scoped to one tenant asks for another tenant's delivery log, then 403 forbidden", async () => {
    const token = (await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'beta' })).body.token;
    const res = await request(t.app).get('/v1/admin/tenants/acme/webhook-deliveries').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });
});
