import type pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { asMetrics, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, createTenant, deliver, setWebhookSecret } from './webhooks.test-support.js';

// Group commit (decision 0024): deliveries of one tenant that wait for a connection together share
// its transaction. To make them wait together, the test holds every connection of the app's pool
// while the deliveries arrive, waits until the intake reports all of them waiting, then lets go.

const SLUGS = ['grp-a', 'grp-b', 'grp-c'] as const;
const secretOf = (slug: string) => `whsec_${slug}_group_commit_secret_0000000000`;
/** A BOOKING_CREATED for `slug` (the fixture's metadata names its own tenant, so each names this one). */
const created = (slug: string, uid: string) => bookingBody('BOOKING_CREATED', t.clock.now(), { uid, metadata: { calbridge_tenant: slug } });

let t: TestApp;
const ids = new Map<string, string>();
beforeAll(async () => {
  t = await createTestApp();
  for (const slug of SLUGS) {
    const id = await createTenant(t, slug);
    ids.set(slug, id);
    await setWebhookSecret(t, id, secretOf(slug));
    // Tenant and secrets cached, so the deliveries below need no connection before they are stored.
    const warm = await deliver(t.app, slug, created(slug, `${slug}-warm`), { secret: secretOf(slug) });
    expect(warm.status).toBe(200);
  }
});
afterAll(() => t.close());

async function metric(name: string): Promise<number> {
  const text = (await request(t.app).get('/metrics').set(asMetrics)).text;
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The queued jobs about a booking, as the worker will read them. */
async function jobsOf(uid: string): Promise<{ task: string; tenantId: string; bookingUid: string; eventId: string; maxAttempts: number }[]> {
  const r = await t.database.owner.query<{ task: string; payload: Record<string, string>; max_attempts: number }>(
    `SELECT t.identifier AS task, j.payload, j.max_attempts FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE j.payload->>'bookingUid' = $1`,
    [uid],
  );
  return r.rows.map((j) => ({ task: j.task, tenantId: j.payload.tenantId!, bookingUid: j.payload.bookingUid!, eventId: j.payload.eventId!, maxAttempts: j.max_attempts }));
}

/** Takes every connection of the app's pool; the returned function gives them back. */
async function holdPool(): Promise<() => void> {
  const pool = t.database.db.pool;
  const held: pg.PoolClient[] = [];
  for (let i = 0; i < pool.options.max; i++) held.push(await pool.connect());
  return () => held.forEach((c) => c.release());
}

/** Sends every delivery while the pool is held; resolves with the answers once they are all stored. */
async function deliverTogether(deliveries: { slug: string; body: string }[]) {
  const release = await holdPool();
  const waitingBefore = await metric('calbridge_webhook_commit_waiting');
  const answers = Promise.all(deliveries.map((d) => deliver(t.app, d.slug, d.body, { secret: secretOf(d.slug) }).then((r) => r)));
  try {
    // The signal: every delivery verified, read and waiting for the transaction that stores it.
    await vi.waitFor(async () => expect(await metric('calbridge_webhook_commit_waiting')).toBe(waitingBefore + deliveries.length), { timeout: 20_000, interval: 20 });
  } finally {
    release();
  }
  return answers;
}

describe('group commit', () => {
  it('when 20 deliveries for 3 tenants arrive together, then each is stored once under its tenant, in one transaction per tenant', async () => {
    const deliveries = Array.from({ length: 20 }, (_, i) => {
      const slug = SLUGS[i % 3]!;
      return { slug, uid: `grp-${i}`, body: created(slug, `grp-${i}`) };
    });
    const groupsBefore = await metric('calbridge_webhook_commit_group_size_count');
    const storedBefore = await metric('calbridge_webhook_commit_group_size_sum');

    const answers = await deliverTogether(deliveries);

    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual({ received: true, duplicate: false });
    }
    // Three tenants, three transactions: the 20 deliveries were grouped by tenant.
    expect((await metric('calbridge_webhook_commit_group_size_count')) - groupsBefore).toBe(3);
    expect((await metric('calbridge_webhook_commit_group_size_sum')) - storedBefore).toBe(20);
    for (const d of deliveries) {
      const tenantId = ids.get(d.slug);
      const rows = await t.database.owner.query<{ inbox: string; events: string; bookings: string; lines: string }>(
        `SELECT (SELECT string_agg(tenant_id::text, ',') FROM webhook_inbox WHERE booking_uid = $1) AS inbox,
                (SELECT string_agg(tenant_id::text, ',') FROM booking_events WHERE booking_uid = $1) AS events,
                (SELECT string_agg(tenant_id::text, ',') FROM bookings WHERE uid = $1) AS bookings,
                (SELECT string_agg(d.tenant_id::text, ',') FROM webhook_deliveries d JOIN webhook_inbox i ON i.id = d.inbox_id WHERE i.booking_uid = $1) AS lines`,
        [d.uid],
      );
      expect(rows.rows[0], d.uid).toEqual({ inbox: tenantId, events: tenantId, bookings: tenantId, lines: tenantId });
    }
    // The queued jobs name the delivery's own tenant too.
    const jobs = await t.database.owner.query<{ tenant: string; uid: string }>(
      `SELECT payload->>'tenantId' AS tenant, payload->>'bookingUid' AS uid FROM graphile_worker._private_jobs WHERE payload->>'bookingUid' LIKE 'grp-%' AND payload->>'bookingUid' NOT LIKE '%warm'`,
    );
    expect(jobs.rows.length).toBe(20);
    for (const j of jobs.rows) expect(j.tenant).toBe(ids.get(deliveries.find((d) => d.uid === j.uid)!.slug));
  }, 60_000);

  it('when one delivery of a group cannot be applied, then the others are stored and applied and it is kept unprocessed', async () => {
    const slug = 'grp-a';
    const good = Array.from({ length: 4 }, (_, i) => ({ slug, uid: `grp-mixed-${i}`, body: created(slug, `grp-mixed-${i}`) }));
    // A meeting trigger naming only a Cal.com booking id nobody has seen: readable, but not applicable yet.
    const meeting = { slug, uid: null, body: JSON.stringify({ triggerEvent: 'MEETING_STARTED', id: 987654, startTime: t.clock.now().toISOString(), endTime: t.clock.now().toISOString() }) };
    const answers = await deliverTogether([...good.slice(0, 2), meeting, ...good.slice(2)]);

    for (const a of answers) expect(a.body).toEqual({ received: true, duplicate: false });
    for (const g of good) {
      const b = await t.database.owner.query('SELECT tenant_id FROM bookings WHERE uid = $1', [g.uid]);
      expect(b.rows, g.uid).toEqual([{ tenant_id: ids.get(slug) }]);
      // The group's jobs went with its rollback; each delivery stored again alone queued its own, once.
      expect((await jobsOf(g.uid)).length, g.uid).toBe(1);
    }
    const kept = await t.database.owner.query<{ status: string; reason: string }>(`SELECT status, reason FROM webhook_inbox WHERE tenant_id = $1 AND trigger_event = 'MEETING_STARTED'`, [ids.get(slug)]);
    expect(kept.rows).toEqual([{ status: 'unprocessed', reason: expect.stringMatching(/^booking_unknown:/) }]);
  }, 60_000);

  it('when a group meets a booking another transaction keeps locked past the lock deadline, then the others are stored, that one is spooled and stored once the lock is gone', async () => {
    const slug = 'grp-c';
    const locked = created(slug, 'grp-locked');
    expect((await deliver(t.app, slug, locked, { secret: secretOf(slug) })).status).toBe(200);
    // Another writer holds the booking's row (as a long admin transaction could).
    const holder = await t.database.owner.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM bookings WHERE uid = 'grp-locked' FOR UPDATE`);
      const cancel = bookingBody('BOOKING_CANCELLED', new Date(t.clock.now().getTime() + 1000), { uid: 'grp-locked', metadata: { calbridge_tenant: slug } });
      const others = [0, 1, 2].map((i) => ({ slug, body: created(slug, `grp-beside-lock-${i}`) }));
      const answers = await deliverTogether([others[0]!, { slug, body: cancel }, ...others.slice(1)]);
      expect(answers.map((a) => a.status)).toEqual([200, 202, 200, 200]);
      for (const i of [0, 1, 2]) expect((await t.database.owner.query(`SELECT 1 FROM bookings WHERE uid = $1`, [`grp-beside-lock-${i}`])).rowCount).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // The spool drains on its own once the row is free.
    await vi.waitFor(async () => {
      const b = await t.database.owner.query<{ status: string }>(`SELECT status FROM bookings WHERE uid = 'grp-locked'`);
      expect(b.rows).toEqual([{ status: 'cancelled' }]);
    }, { timeout: 30_000, interval: 100 });
    expect((await t.database.owner.query(`SELECT 1 FROM webhook_inbox WHERE booking_uid = 'grp-locked'`)).rowCount).toBe(2);
  }, 60_000);

  it('when the same delivery arrives twice in one group, then it is stored once and the second answers duplicate', async () => {
    const body = created('grp-b', 'grp-twice');
    const answers = await deliverTogether([{ slug: 'grp-b', body }, { slug: 'grp-b', body }]);
    expect(answers.map((a) => a.body.duplicate).sort()).toEqual([false, true]);
    expect((await t.database.owner.query(`SELECT 1 FROM webhook_inbox WHERE booking_uid = 'grp-twice'`)).rowCount).toBe(1);
    expect((await t.database.owner.query(`SELECT 1 FROM bookings WHERE uid = 'grp-twice'`)).rowCount).toBe(1);
    // The duplicate queued nothing: one job, for the one recorded event.
    expect((await jobsOf('grp-twice')).length).toBe(1);
  }, 60_000);

  it('when a group commits, then its booking.changed jobs are queued with it, one per recorded event, as a delivery alone queues its own', async () => {
    const slug = 'grp-a';
    const later = new Date(t.clock.now().getTime() + 60_000);
    const deliveries = [
      { slug, body: created(slug, 'grp-jobs-1') },
      { slug, body: created(slug, 'grp-jobs-2') },
      // A second event of the same booking in the same group: its own job.
      { slug, body: bookingBody('BOOKING_CANCELLED', later, { uid: 'grp-jobs-1', metadata: { calbridge_tenant: slug } }) },
    ];
    const groupsBefore = await metric('calbridge_webhook_commit_group_size_count');
    const answers = await deliverTogether(deliveries);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await metric('calbridge_webhook_commit_group_size_count')) - groupsBefore).toBe(1);
    // Alone (no group): the job comes from the delivery's own statement.
    expect((await deliver(t.app, slug, created(slug, 'grp-jobs-alone'), { secret: secretOf(slug) })).status).toBe(200);

    for (const uid of ['grp-jobs-1', 'grp-jobs-2', 'grp-jobs-alone']) {
      const events = await t.database.owner.query<{ id: string }>('SELECT id::text FROM booking_events WHERE booking_uid = $1 ORDER BY id', [uid]);
      const jobs = await jobsOf(uid);
      expect(jobs.map((j) => j.eventId).sort(), uid).toEqual(events.rows.map((e) => e.id).sort());
      for (const j of jobs) expect(j, uid).toEqual({ task: 'booking.changed', tenantId: ids.get(slug), bookingUid: uid, eventId: expect.any(String), maxAttempts: 25 });
    }
  }, 60_000);
});
