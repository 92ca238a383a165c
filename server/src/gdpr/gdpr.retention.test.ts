import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../app.js';
import { jobCrontab, jobHandlers } from '../jobs/handlers.js';
import { startWorker } from '../jobs/queue.js';
import { insertObserved, insertReceipt } from '../sessions/sessions.repository.js';
import { asAdmin, capturingLogger, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, createTenant, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';
import { RETENTION_ALL_TASK, RETENTION_TENANT_TASK } from './gdpr.service.js';

const SECRET = 'whsec_retention_test_secret_000000000000';
const DAY = 86_400_000;
// The moment retention runs; everything is placed relative to it.
const RUN = new Date('2027-12-01T03:17:00.000Z');
const at = (days: number) => new Date(RUN.getTime() + days * DAY);

let t: TestApp;
let tenantId: string;
const receipts: Record<string, string> = {};

/** Delivers a booking at `received` (its createdAt), ending at `ends`. */
async function booking(uid: string, received: Date, ends: Date): Promise<void> {
  t.clock.set(received);
  const body = bookingBody('BOOKING_CREATED', received, {
    uid,
    startTime: new Date(ends.getTime() - 1_800_000).toISOString(),
    endTime: ends.toISOString(),
    metadata: { calbridge_tenant: 'keep' },
  });
  const res = await deliver(t.app, 'keep', body, { secret: SECRET });
  expect(res.status).toBe(200);
}

async function receipt(name: string, created: Date, observedUid?: string): Promise<void> {
  await t.database.db.withTenant(tenantId, async (tx) => {
    const sessionId = crypto.randomUUID();
    const r = await insertReceipt(tx, {
      tenantId, sessionId, consentVersion: 'v1', consentTextSha256: 'b'.repeat(64), purposes: ['booking'], pageOrigin: 'https://keep.example',
      pageUrl: 'https://keep.example/book', referrer: '', utm: {}, ipPrefix: '198.51.100.0/24', userAgentFamily: 'Chrome', createdAt: created,
    });
    receipts[name] = r.id;
    if (observedUid) {
      await insertObserved(tx, {
        tenantId, uid: observedUid, sessionId, consentReceiptId: r.id, startTime: null, endTime: null, eventTypeId: null, eventType: null, status: 'accepted', observedAt: created,
      });
    }
  });
}

/** The worker's context: same database and clock; no network. */
function workerContext() {
  return createContext({ config: t.config, db: t.database.db, fetch: async () => new Response(null, { status: 599 }), clock: t.clock, logger: capturingLogger().logger });
}

async function column(sql: string): Promise<string[]> {
  const r = await t.database.owner.query<{ v: string }>(sql, [tenantId]);
  return r.rows.map((row) => row.v).sort();
}

beforeAll(async () => {
  t = await createTestApp();
  tenantId = await createTenant(t, 'keep');
  await setWebhookSecret(t, tenantId, SECRET);
  const policy = await request(t.app).put('/v1/admin/tenants/keep/retention').set(asAdmin).send({ rawDeliveryDays: 10, bookingDays: 30, consentReceiptDays: 365 });
  expect(policy.status).toBe(200);

  // Bookings: last moment 35 days ago (past 30), 29 days ago (inside), and in the future.
  await booking('retOld', at(-40), at(-35));
  await booking('retKeep', at(-40), at(-29));
  await booking('retNine', at(-9), at(5));
  await booking('retRecent', at(-5), at(10));
  // A refused delivery 20 days ago and one 3 days ago: delivery-log lines without a body.
  for (const d of [-20, -3]) {
    t.clock.set(at(d));
    const res = await deliver(t.app, 'keep', bookingBody('BOOKING_CREATED', at(d), { uid: `refused${-d}` }), { secret: 'whsec_wrong_secret_00000000000000000000' });
    expect(res.status).toBe(401);
  }
  // Consent receipts: past 365 days and justifying nothing kept; past but justifying a kept booking; inside; past with no booking at all.
  await receipt('oldOfGoneBooking', at(-366), 'retOld');
  await receipt('oldOfKeptBooking', at(-366), 'retKeep');
  await receipt('young', at(-364));
  await receipt('oldAlone', at(-400));
  await t.database.db.withTenant(tenantId, (tx) =>
    tx.query('INSERT INTO calcom_booking_requests (tenant_id, idempotency_key, request_hash, booking_uid, response) VALUES ($1, $2, $3, $4, $5), ($1, $6, $3, $7, $5)', [
      tenantId, 'key-old-booking', Buffer.alloc(32), 'retOld', '{}', 'key-recent-booking', 'retRecent',
    ]),
  );
  t.clock.set(RUN);
});
afterAll(() => t.close());

describe('retention', () => {
  it('when retention runs, then exactly what is past its period is removed and nothing else', async () => {
    const ctx = workerContext();
    await jobHandlers(ctx)[RETENTION_TENANT_TASK]!({ tenantId }, { id: '1', attempts: 1, maxAttempts: 3 });

    expect(await column('SELECT uid AS v FROM bookings WHERE tenant_id = $1')).toEqual(['retKeep', 'retNine', 'retRecent']);
    expect(await column('SELECT DISTINCT booking_uid AS v FROM booking_events WHERE tenant_id = $1')).toEqual(['retKeep', 'retNine', 'retRecent']);
    // Raw bodies older than 10 days are gone even when their booking is kept.
    expect(await column('SELECT booking_uid AS v FROM webhook_inbox WHERE tenant_id = $1')).toEqual(['retNine', 'retRecent']);
    expect(await column("SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' ' || outcome AS v FROM webhook_deliveries WHERE tenant_id = $1")).toEqual([
      `${at(-3).toISOString().slice(0, 10)} rejected`,
      `${at(-5).toISOString().slice(0, 10)} accepted`,
      `${at(-9).toISOString().slice(0, 10)} accepted`,
    ].sort());
    expect(await column('SELECT id::text AS v FROM consent_receipts WHERE tenant_id = $1')).toEqual([receipts.oldOfKeptBooking!, receipts.young!].sort());
    expect(await column('SELECT uid AS v FROM observed_bookings WHERE tenant_id = $1')).toEqual(['retKeep']);
    expect(await column('SELECT idempotency_key AS v FROM calcom_booking_requests WHERE tenant_id = $1')).toEqual(['key-recent-booking']);
  });

  it('when retention ran, then the policy view shows the run with its cut-offs and counts, and the run is audited', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/keep/retention').set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.lastRun).toEqual({
      ranAt: RUN.toISOString(),
      cutoffs: { rawBefore: at(-10).toISOString(), bookingBefore: at(-30).toISOString(), consentBefore: at(-365).toISOString() },
      counts: { webhook_inbox: 2, webhook_deliveries: 3, bookings: 1, booking_events: 1, observed_bookings: 1, calcom_booking_requests: 1, consent_receipts: 2 },
    });
    const audit = await request(t.app).get('/v1/admin/tenants/keep/audit').query({ limit: 1 }).set(asAdmin);
    expect(audit.body.data[0]).toMatchObject({ action: 'retention.run', actor: { kind: 'scheduler', tokenId: null }, details: { bookings: 1 } });
  });

  it('when retention runs again a minute later, then nothing more is removed', async () => {
    t.clock.advance(60_000);
    const ctx = workerContext();
    await jobHandlers(ctx)[RETENTION_TENANT_TASK]!({ tenantId }, { id: '2', attempts: 1, maxAttempts: 3 });
    const res = await request(t.app).get('/v1/admin/tenants/keep/retention').set(asAdmin);
    expect(Object.values(res.body.lastRun.counts)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('when the daily cron task fires, then the worker runs retention for every tenant', async () => {
    expect(jobCrontab()).toContain(`17 3 * * * ${RETENTION_ALL_TASK}`);
    const second = await createTenant(t, 'keep-two');
    const ctx = workerContext();
    await jobHandlers(ctx)[RETENTION_ALL_TASK]!({}, { id: '3', attempts: 1, maxAttempts: 3 });
    const queued = await t.database.owner.query<{ n: number }>("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1", [RETENTION_TENANT_TASK]);
    expect(queued.rows[0]!.n).toBe(2);

    const worker = await startWorker({ connectionString: t.database.ownerUrl, handlers: jobHandlers(ctx), logger: capturingLogger().logger, pollIntervalMs: 50 });
    try {
      await expect
        .poll(async () => (await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM retention_runs WHERE tenant_id = $1', [second])).rows[0]!.n, { timeout: 10_000 })
        .toBe(1);
    } finally {
      await worker.stop();
    }
  });
});
