import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../app.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { asAdmin, asMetrics, createTestApp, type TestApp } from '../test-support/app.js';
import { WEBHOOK_REPROCESS_TASK, webhookJobHandlers } from './webhooks.jobs.js';
import { createWebhooksService, WEBHOOK_PROCESSOR_VERSION } from './webhooks.service.js';
import { bookingBody as anyBookingBody, createTenant, deliver, setWebhookSecret } from './webhooks.test-support.js';

const SECRET = 'whsec_unprocessed_tenant_00000000000';
let t: TestApp;
let tenantId: string;
beforeAll(async () => {
  t = await createTestApp({ env: { CALBRIDGE_WEBHOOK_REFUSAL_LOG_PER_MINUTE: '3' } });
  tenantId = await createTenant(t, 'keep');
  await setWebhookSecret(t, tenantId, SECRET);
  await setWebhookSecret(t, await createTenant(t, 'other'), 'whsec_unprocessed_other_000000000000');
});
afterAll(() => t.close());

/** The fixture booking, its metadata naming this test's tenant. */
const bookingBody = (trigger: string, at: Date, fields: Record<string, unknown> = {}) => anyBookingBody(trigger, at, { metadata: { calbridge_tenant: 'keep' }, ...fields });
const send = (body: string | Buffer, contentType = 'application/json') =>
  typeof body === 'string' ? deliver(t.app, 'keep', body, { secret: SECRET }) : deliverBytes(body, contentType);

async function deliverBytes(body: Buffer, contentType: string) {
  const { signCalcomBody } = await import('./webhooks.signature.js');
  return request(t.app).post('/v1/webhooks/calcom/keep').set('Content-Type', contentType).set('X-Cal-Signature-256', signCalcomBody(body, SECRET)).send(body);
}

type LogLine = { id: string; trigger: string | null; outcome: string; code: string | null; status: string | null; reason: string | null };
async function log(slug = 'keep'): Promise<LogLine[]> {
  return (await request(t.app).get(`/v1/admin/tenants/${slug}/webhook-deliveries?limit=200`).set(asAdmin)).body.data;
}
const reprocess = (id: string, slug = 'keep', auth = asAdmin) => request(t.app).post(`/v1/admin/tenants/${slug}/webhook-deliveries/${id}/reprocess`).set(auth);

describe('deliveries that cannot be applied yet', () => {
  it('when a signed body is not JSON, then it answers 200 and the log shows it unprocessed with the reason', async () => {
    const res = await send('triggerEvent=BOOKING_CREATED&uid=form-1');
    expect(res.status).toBe(200);
    expect((await log())[0]).toMatchObject({ outcome: 'accepted', status: 'unprocessed', reason: expect.stringMatching(/^not_json:/) });
  });

  it('when a signed body holds raw NUL bytes and invalid UTF-8, then it answers 200 and its exact bytes are kept', async () => {
    const bytes = Buffer.concat([Buffer.from('{"triggerEvent":"BOOKING_CREATED","x":"'), Buffer.from([0x00, 0xff, 0xfe]), Buffer.from('"}')]);
    expect((await send(bytes, 'application/octet-stream')).status).toBe(200);
    expect((await log())[0]).toMatchObject({ status: 'unprocessed', reason: expect.stringMatching(/^not_utf8:/) });
    const stored = await t.database.owner.query<{ body: Buffer }>("SELECT body FROM webhook_inbox WHERE status = 'unprocessed' ORDER BY received_at DESC, id LIMIT 10");
    expect(stored.rows.some((r) => r.body.equals(bytes))).toBe(true);
  });

  it('when a meeting trigger names only a Cal.com booking id we have not seen, then it is kept, and reprocessing applies it once the booking arrives', async () => {
    const meeting = JSON.stringify({ triggerEvent: 'MEETING_STARTED', id: 9301, startTime: t.clock.now().toISOString(), endTime: new Date(t.clock.now().getTime() + 1_800_000).toISOString() });
    expect((await send(meeting)).status).toBe(200);
    const line = (await log())[0]!;
    expect(line).toMatchObject({ trigger: 'MEETING_STARTED', status: 'unprocessed', reason: expect.stringMatching(/^booking_unknown:/) });

    const still = await reprocess(line.id);
    expect(still.status).toBe(200);
    expect(still.body).toMatchObject({ id: line.id, status: 'unprocessed', changed: false });

    await send(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'late-booking-1', bookingId: 9301 }));
    const applied = await reprocess(line.id);
    expect(applied.body).toEqual({ id: line.id, status: 'processed', reason: null, changed: true });
    const booking = await request(t.app).get('/v1/admin/tenants/keep/bookings/late-booking-1').set(asAdmin);
    expect(booking.body.meetingStartedAt).toBe(t.clock.now().toISOString());
    expect((await log()).find((l) => l.id === line.id)).toMatchObject({ status: 'processed', reason: null });

    const again = await reprocess(line.id);
    expect(again.body).toMatchObject({ status: 'processed', changed: false });
  });

  it('when unprocessed deliveries were left by an older processor version, then the start-up job tries them again', async () => {
    const meeting = JSON.stringify({ triggerEvent: 'MEETING_ENDED', id: 9302, startTime: t.clock.now().toISOString(), endTime: t.clock.now().toISOString() });
    await send(meeting);
    await send(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'upgrade-1', bookingId: 9302 }));
    // As an older release would have left it.
    await t.database.owner.query("UPDATE webhook_inbox SET processor_version = $1 WHERE status = 'unprocessed' AND trigger_event = 'MEETING_ENDED'", [WEBHOOK_PROCESSOR_VERSION - 1]);

    const ctx = createContext({ config: t.config, db: t.database.db, fetch: globalThis.fetch, clock: t.clock, logger: (await import('../logger.js')).createLogger({ level: 'silent' }) });
    await webhookJobHandlers(ctx)[WEBHOOK_REPROCESS_TASK]!({}, { id: '1', attempts: 1, maxAttempts: 5 });

    const booking = await request(t.app).get('/v1/admin/tenants/keep/bookings/upgrade-1').set(asAdmin);
    expect(booking.body.meetingEndedAt).toBe(t.clock.now().toISOString());
    const left = await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_inbox WHERE status = $1 AND processor_version < $2', ['unprocessed', WEBHOOK_PROCESSOR_VERSION]);
    expect(left.rows[0]!.n).toBe(0);
    // Already tried by this version: a second run has nothing to do.
    const again = await createWebhooksService(ctx, createTenantsService(ctx)).reprocessOutdated();
    expect(again.tried).toBe(0);
  });

  it('when unprocessed deliveries are counted, then the metrics show them by reason', async () => {
    const metrics = await request(t.app).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_webhook_deliveries_total\{outcome="unprocessed",code="booking_unknown"\} [1-9]/);
    expect(metrics.text).toMatch(/calbridge_webhook_reprocessed_total\{status="processed"\} [1-9]/);
  });
});

describe('reprocess refusals', () => {
  it('when the delivery id is unknown, then 404 delivery_not_found', async () => {
    const res = await reprocess('999999999');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('delivery_not_found');
  });

  it('when the delivery id belongs to another tenant, then 404 delivery_not_found', async () => {
    const mine = (await log())[0]!.id;
    const res = await reprocess(mine, 'other');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('delivery_not_found');
  });

  it('when the log line is a refused delivery, then 409 delivery_not_stored', async () => {
    await deliver(t.app, 'keep', bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'forged-x' }), { header: 'e'.repeat(64) });
    const refused = (await log()).find((l) => l.code === 'signature_invalid')!;
    const res = await reprocess(refused.id);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('delivery_not_stored');
  });

  it('when the id is not a delivery id (letters, out of bigint range), then 400 invalid_request', async () => {
    for (const id of ['abc', '99999999999999999999', '9223372036854775808']) {
      const res = await reprocess(id);
      expect(res.status, id).toBe(400);
      expect(res.body.code).toBe('invalid_request');
    }
  });

  it("when a token scoped to another tenant asks to reprocess, then 403 forbidden", async () => {
    const token = (await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'other' })).body.token;
    const res = await reprocess('1', 'keep', { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });
});

describe('refused deliveries (issue 13 findings 5 and 6)', () => {
  it('when forged deliveries flood in, then every one is counted but the log keeps at most the per-minute sample', async () => {
    t.clock.advance(61_000);
    const before = (await log()).filter((l) => l.code === 'signature_invalid').length;
    for (let i = 0; i < 10; i++) {
      const res = await deliver(t.app, 'keep', bookingBody('BOOKING_CREATED', t.clock.now(), { uid: `flood-${i}` }), { header: 'a'.repeat(64) });
      expect(res.status).toBe(401);
    }
    const after = (await log()).filter((l) => l.code === 'signature_invalid').length;
    // CALBRIDGE_WEBHOOK_REFUSAL_LOG_PER_MINUTE=3 for this app (a window may have started earlier in the minute).
    expect(after - before).toBeLessThanOrEqual(3);
    const metrics = await request(t.app).get('/metrics').set(asMetrics);
    const counted = Number(/calbridge_webhook_deliveries_total\{outcome="rejected",code="signature_invalid"\} (\d+)/.exec(metrics.text)?.[1]);
    expect(counted).toBeGreaterThanOrEqual(10);
  });

  it('when a delivery is dated beyond the allowed skew, then 400 future_delivery and nothing is stored', async () => {
    const ahead = new Date(t.clock.now().getTime() + (t.config.webhookFutureSkewSeconds + 60) * 1000);
    const res = await send(bookingBody('BOOKING_CANCELLED', ahead, { uid: 'future-1' }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('future_delivery');
    expect((await t.database.owner.query("SELECT 1 FROM webhook_inbox WHERE booking_uid = 'future-1'")).rowCount).toBe(0);
  });

  it('when a flat MEETING_ENDED of a months-old booking is replayed, then the replay is a duplicate and changes nothing', async () => {
    await send(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'replay-meet-1', bookingId: 9401 }));
    const ended = new Date(t.clock.now().getTime() - 30 * 86_400_000);
    const flat = JSON.stringify({ triggerEvent: 'MEETING_ENDED', id: 9401, uid: 'replay-meet-1', startTime: ended.toISOString(), endTime: ended.toISOString(), createdAt: new Date(ended.getTime() - 86_400_000).toISOString() });
    expect((await send(flat)).body).toEqual({ received: true, duplicate: false });
    const before = await request(t.app).get('/v1/admin/tenants/keep/bookings/replay-meet-1').set(asAdmin);
    expect(before.body.meetingEndedAt).toBe(ended.toISOString());
    t.clock.advance(60_000);
    expect((await send(flat)).body).toEqual({ received: true, duplicate: true });
    const after = await request(t.app).get('/v1/admin/tenants/keep/bookings/replay-meet-1').set(asAdmin);
    expect(after.body.events).toEqual(before.body.events);
    t.clock.advance(-60_000);
  });

  it('when a metadata key is calbridge_tenant plus a NUL and names another tenant, then 403 tenant_mismatch before anything is cleaned or stored', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'nulkey-1', metadata: { 'calbridge_tenant\u0000': 'other' } });
    const res = await send(body);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('tenant_mismatch');
    expect((await t.database.owner.query("SELECT 1 FROM bookings WHERE uid = 'nulkey-1'")).rowCount).toBe(0);
  });

  it('when a metadata key with a NUL names this tenant, then the booking is stored and the key cannot become calbridge_tenant', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'nulkey-2', metadata: { 'calbridge_tenant\u0000': 'keep', cb_receipt: 'r-1' } });
    expect((await send(body)).status).toBe(200);
    const b = await request(t.app).get('/v1/admin/tenants/keep/bookings/nulkey-2').set(asAdmin);
    expect(b.body.metadata).toEqual({ 'calbridge_tenant\uFFFD': 'keep', cb_receipt: 'r-1' });
  });
});

describe('unprocessed deliveries and GDPR', () => {
  it('when an unprocessed delivery names a person, then their export lists it, erasure rewrites it, and a later one about them is stored without their address', async () => {
    const first = 'not json, from grace@unprocessed.test';
    expect((await send(first)).status).toBe(200);
    const exported = await request(t.app).get('/v1/admin/tenants/keep/subjects/grace@unprocessed.test/export').set(asAdmin);
    expect(exported.status).toBe(200);
    expect(JSON.stringify(exported.body.rawDeliveries)).toContain('grace@unprocessed.test');

    const erased = await request(t.app).delete('/v1/admin/tenants/keep/subjects/grace@unprocessed.test').set(asAdmin).send({});
    expect(erased.status).toBe(200);
    const dump = async () => (await t.database.owner.query<{ b: string }>("SELECT encode(body, 'escape') AS b FROM webhook_inbox")).rows.map((r) => r.b).join('\n');
    expect(await dump()).not.toContain('grace@unprocessed.test');

    // Screened on the way in too, readable or not.
    expect((await send('still not json: GRACE@unprocessed.test wrote again')).status).toBe(200);
    expect((await send(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'grace-2', attendees: [{ name: 'Grace', email: 'grace@unprocessed.test' }], bookingId: 'odd' }))).status).toBe(200);
    expect((await dump()).toLowerCase()).not.toContain('grace@unprocessed.test');
  });
});

describe('applying a stored delivery later (the spool entry point)', () => {
  it('when verified bytes are handed in with the time they arrived, then staleness is judged at that time and they are stored once', async () => {
    const ctx = createContext({ config: t.config, db: t.database.db, fetch: globalThis.fetch, clock: t.clock, logger: (await import('../logger.js')).createLogger({ level: 'silent' }) });
    const webhooks = createWebhooksService(ctx, createTenantsService(ctx));
    const arrived = new Date(t.clock.now().getTime() - 8 * 86_400_000);
    const body = Buffer.from(bookingBody('BOOKING_CREATED', new Date(arrived.getTime() - 60_000), { uid: 'spooled-1' }));
    const out = await webhooks.ingestVerified({ id: tenantId, slug: 'keep' }, body, arrived);
    expect(out).toMatchObject({ duplicate: false, status: 'processed' });
    expect(await webhooks.ingestVerified({ id: tenantId, slug: 'keep' }, body, arrived)).toMatchObject({ duplicate: true });
    // The same bytes judged now would be stale: the arrival time, not the drain time, decides.
    expect(await webhooks.ingestVerified({ id: tenantId, slug: 'keep' }, Buffer.from(bookingBody('BOOKING_CREATED', arrived, { uid: 'spooled-2' })), t.clock.now())).toMatchObject({ refused: 'stale_delivery' });
    expect((await request(t.app).get('/v1/admin/tenants/keep/bookings/spooled-1').set(asAdmin)).body.status).toBe('accepted');
  });
});
