import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import { leadsCrmJobHandlers } from '../leads/leads.jobs.js';
import { contextOf, pumpDeliveries, runJobs } from '../leads/leads.test-support.js';
import { asAdmin, capturingLogger, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, createTenant, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';
import type { Db } from '../db/db.js';
import { jobsOnWorkerStart } from '../jobs/handlers.js';
import { startWorker } from '../jobs/queue.js';
import { createCrmDelivery, CRM_RECOVERY_SWEEP_KEY, LEASE_MARGIN_MS, leaseMs, MAX_ATTEMPTS, RETRY_SCHEDULE_SECONDS } from './crm.delivery.js';
import { deliverJobKey } from './crm.outbox.js';
import type { ResolveHost } from './crm.url-policy.js';
import { loopbackOnlyFetch, startReceiver, type Receiver } from './test-support/receiver.js';
import { verifyStandardWebhook } from './test-support/standard-webhooks.reference.js';
import { webhookId } from './crm.webhook-sender.js';

const CAL_SECRET = 'whsec_crm_delivery_test_secret_0000000';
const half = () => 0.5; // jitter factor exactly 1: delays are the schedule's

let t: TestApp;
let ctx: AppContext;
let receiver: Receiver;
let n = 0;

beforeAll(async () => {
  t = await createTestApp({ env: { CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS: 'true', CALBRIDGE_CRM_TIMEOUT_MS: '2000' }, fetch: loopbackOnlyFetch });
  ctx = contextOf(t, loopbackOnlyFetch);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.setHandler(() => ({ status: 204 }));
});

/** A tenant of its own per test, with a Cal.com webhook secret and one webhook destination to the receiver. */
async function arrange(events?: string[]) {
  const slug = `crm-${++n}`;
  const tenantId = await createTenant(t, slug);
  await setWebhookSecret(t, tenantId, CAL_SECRET);
  const res = await request(t.app).post(`/v1/admin/tenants/${slug}/destinations`).set(asAdmin).send({ kind: 'webhook', url: `${receiver.url}/hook/${slug}`, ...(events ? { events } : {}) });
  expect(res.status).toBe(201);
  return { slug, tenantId, destinationId: res.body.id as string, secret: res.body.secret as string };
}

/** A Cal.com delivery through the intake, then the booking.changed jobs it queued. */
async function book(slug: string, trigger: string, fields: Record<string, unknown>, deps = { random: half }) {
  const at = t.clock.now();
  const res = await deliver(t.app, slug, bookingBody(trigger, at, { metadata: {}, ...fields }), { secret: CAL_SECRET });
  expect(res.status).toBe(200);
  t.clock.advance(1000);
  await runJobs(t, leadsCrmJobHandlers(ctx, deps), ['booking.changed']);
}

const attendee = (email: string, name = 'Test Person') => ({ attendees: [{ name, email, timeZone: 'Europe/London' }] });
const mine = (slug: string) => receiver.received.filter((r) => r.path === `/hook/${slug}`);

/** The context of a server that can be killed: once killed, none of its database calls goes through. */
function killable(base: AppContext) {
  let dead = false;
  const guard = () => {
    if (dead) throw new Error('process killed');
  };
  const db: Db = {
    withTenant: async (id, fn) => (guard(), base.db.withTenant(id, fn)),
    withPlatform: async (fn) => (guard(), base.db.withPlatform(fn)),
    ready: (n) => base.db.ready(n),
    close: () => base.db.close(),
    get pool() {
      return base.db.pool;
    },
  };
  return { ctx: { ...base, db }, kill: () => void (dead = true) };
}

async function messages(tenantId: string) {
  return (
    await t.database.owner.query<{ id: string; lead_id: string; event_type: string; status: string; attempts: number }>(
      `SELECT id, lead_id, event_type, status, attempts FROM crm_messages WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    )
  ).rows;
}

describe('CRM delivery', () => {
  it('when the destination fails the first attempts and loses an answer, then every event arrives exactly once after dedupe by webhook-id, in order per lead, signed per the spec', async () => {
    const { slug, tenantId, secret } = await arrange();
    // Fails the first 3 requests; the 6th is stored by the receiver but its answer is lost (500): it is sent again.
    receiver.setHandler((_r, i) => (i - firstIndex < 3 || i - firstIndex === 5 ? { status: 503 } : { status: 200 }));
    const firstIndex = receiver.received.length;
    await book(slug, 'BOOKING_CREATED', { uid: 'ord-a1', ...attendee('ann@acme.example', 'Ann Able') });
    await book(slug, 'BOOKING_CREATED', { uid: 'ord-b1', ...attendee('ben@gmail.com', 'Ben Bee') });
    await book(slug, 'BOOKING_CANCELLED', { uid: 'ord-a1', ...attendee('ann@acme.example', 'Ann Able') });
    await book(slug, 'BOOKING_CREATED', { uid: 'ord-a2', ...attendee('ann@acme.example', 'Ann Able') });

    await pumpDeliveries(t, ctx, { random: half });

    const stored = await messages(tenantId);
    expect(stored.length).toBeGreaterThanOrEqual(7);
    expect(stored.every((m) => m.status === 'delivered')).toBe(true);
    const got = mine(slug);
    const now = Math.floor(t.clock.now().getTime() / 1000);
    for (const r of got) {
      verifyStandardWebhook(secret, r.headers as Record<string, string>, r.body, Number(r.headers['webhook-timestamp']), 300);
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - now)).toBeLessThan(3 * 86400);
    }
    // Dedupe by webhook-id, keeping the first arrival: each stored message exactly once.
    const seen = new Map<string, { type: string; leadId: string; uid?: string }>();
    for (const r of got) {
      const id = r.headers['webhook-id'] as string;
      if (!seen.has(id)) {
        const body = JSON.parse(r.body);
        seen.set(id, { type: body.type, leadId: body.data.lead.id, uid: body.data.booking?.uid });
      }
    }
    expect(got.length).toBeGreaterThan(seen.size); // there were repeats
    expect([...seen.keys()].sort()).toEqual(stored.map((m) => webhookId(m.id)).sort());
    // In order per lead: the first arrivals of each lead follow the order the messages were written.
    for (const leadId of new Set(stored.map((m) => m.lead_id))) {
      const written = stored.filter((m) => m.lead_id === leadId).map((m) => webhookId(m.id));
      const arrived = [...seen.entries()].filter(([, v]) => v.leadId === leadId).map(([id]) => id);
      expect(arrived).toEqual(written);
    }
    const annId = stored.find((m) => m.event_type === 'lead.created')!.lead_id;
    const annSaw = [...seen.values()].filter((v) => v.leadId === annId).map((v) => `${v.type}${v.uid ? `:${v.uid}` : ''}`);
    expect(annSaw).toEqual(['lead.created', 'booking.created:ord-a1', 'lead.updated', 'booking.cancelled:ord-a1', 'booking.created:ord-a2']);
  });

  it('when a booking is rescheduled, then receivers get one booking.rescheduled naming the original, and nothing for the cancelled original', async () => {
    const { slug, tenantId } = await arrange(['booking.created', 'booking.rescheduled', 'booking.cancelled']);
    await book(slug, 'BOOKING_CREATED', { uid: 'resched-old', ...attendee('gail@acme.example') });
    await book(slug, 'BOOKING_RESCHEDULED', {
      uid: 'resched-new',
      rescheduleUid: 'resched-old',
      startTime: '2026-12-03T10:00:00Z',
      endTime: '2026-12-03T10:30:00Z',
      ...attendee('gail@acme.example'),
    });
    await pumpDeliveries(t, ctx, { random: half });
    const bodies = mine(slug).map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => `${b.type}:${b.data.booking.uid}`)).toEqual(['booking.created:resched-old', 'booking.rescheduled:resched-new']);
    expect(bodies[1].data.booking).toMatchObject({ rescheduledFromUid: 'resched-old', startTime: '2026-12-03T10:00:00.000Z', status: 'accepted' });
    expect((await messages(tenantId)).every((m) => m.status === 'delivered')).toBe(true);
  });

  it('when a receiver fails, then attempts back off on the schedule, and Retry-After is honoured when longer', async () => {
    const { slug, tenantId } = await arrange(['lead.created']);
    receiver.setHandler((_r, i) => (i === start ? { status: 503 } : i === start + 1 ? { status: 429, headers: { 'Retry-After': '900' } } : { status: 200 }));
    const start = receiver.received.length;
    await book(slug, 'BOOKING_CREATED', { uid: 'backoff-1', ...attendee('cara@acme.example') });
    const delivery = createCrmDelivery(ctx, { random: half });
    const [m] = await messages(tenantId);
    const t0 = t.clock.now().getTime();
    expect(await delivery.deliver(tenantId, m!.id)).toBe('retry');
    const next1 = (await t.database.owner.query(`SELECT next_attempt_at FROM crm_messages WHERE id = $1`, [m!.id])).rows[0].next_attempt_at as Date;
    expect(next1.getTime() - t0).toBe(RETRY_SCHEDULE_SECONDS[0] * 1000);
    // Not due yet: nothing is sent.
    expect(await delivery.deliver(tenantId, m!.id)).toBe('skipped');
    t.clock.set(next1);
    expect(await delivery.deliver(tenantId, m!.id)).toBe('retry');
    const next2 = (await t.database.owner.query(`SELECT next_attempt_at FROM crm_messages WHERE id = $1`, [m!.id])).rows[0].next_attempt_at as Date;
    expect(next2.getTime() - next1.getTime()).toBe(900_000); // Retry-After 900 s beats the schedule's 30 s
    t.clock.set(next2);
    expect(await delivery.deliver(tenantId, m!.id)).toBe('delivered');
    const res = await request(t.app).get(`/v1/admin/tenants/${slug}/deliveries`).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.data[0].attempts.map((a: { outcome: string; statusCode: number }) => [a.outcome, a.statusCode])).toEqual([
      ['retry', 503],
      ['retry', 429],
      ['delivered', 200],
    ]);
  });

  it('when the receiver answers 410, then the destination is disabled and the message waits; enabled again, it goes out', async () => {
    const { slug, tenantId, destinationId } = await arrange(['lead.created']);
    receiver.setHandler(() => ({ status: 410 }));
    await book(slug, 'BOOKING_CREATED', { uid: 'gone-1', ...attendee('dora@acme.example') });
    await pumpDeliveries(t, ctx, { random: half });
    const d = await request(t.app).get(`/v1/admin/tenants/${slug}/destinations/${destinationId}`).set(asAdmin);
    expect(d.body).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
    expect(mine(slug)).toHaveLength(1);
    expect((await messages(tenantId))[0]!.status).toBe('pending');
    expect(await ctx.metrics.registry.getSingleMetricAsString('calbridge_crm_delivery_attempts_total')).toMatch(/kind="webhook",outcome="gone"} 1/);

    receiver.setHandler(() => ({ status: 200 }));
    const patch = await request(t.app).patch(`/v1/admin/tenants/${slug}/destinations/${destinationId}`).set(asAdmin).send({ status: 'active' });
    expect(patch.status).toBe(200);
    await pumpDeliveries(t, ctx, { random: half });
    expect((await messages(tenantId))[0]!.status).toBe('delivered');
    expect(mine(slug)).toHaveLength(2);
  });

  it('when every attempt fails for about a day, then the message is dead-lettered and the next one of its lead goes out', async () => {
    const { slug, tenantId } = await arrange(['lead.created', 'booking.created']);
    receiver.setHandler((r) => (JSON.parse(r.body).type === 'lead.created' ? { status: 500 } : { status: 200 }));
    const t0 = t.clock.now().getTime();
    await book(slug, 'BOOKING_CREATED', { uid: 'dead-1', ...attendee('eve@acme.example') });
    await pumpDeliveries(t, ctx, { random: half });
    const [first, second] = await messages(tenantId);
    expect(first).toMatchObject({ event_type: 'lead.created', status: 'dead', attempts: MAX_ATTEMPTS });
    expect(second).toMatchObject({ event_type: 'booking.created', status: 'delivered' });
    const hours = (t.clock.now().getTime() - t0) / 3_600_000;
    expect(hours).toBeGreaterThan(22);
    expect(hours).toBeLessThan(26);
    const dead = await request(t.app).get(`/v1/admin/tenants/${slug}/deliveries?status=dead`).set(asAdmin);
    expect(dead.body.data).toHaveLength(1);
    expect(dead.body.data[0].attempts.at(-1).outcome).toBe('dead');

    // Replay sends it again with the same webhook-id.
    receiver.setHandler(() => ({ status: 200 }));
    const replay = await request(t.app).post(`/v1/admin/tenants/${slug}/deliveries/${first!.id}/replay`).set(asAdmin);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: first!.id, status: 'pending' });
    const again = await request(t.app).post(`/v1/admin/tenants/${slug}/deliveries/${first!.id}/replay`).set(asAdmin);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('delivery_pending');
    await pumpDeliveries(t, ctx, { random: half });
    const last = mine(slug).at(-1)!;
    expect(last.headers['webhook-id']).toBe(webhookId(first!.id));
    expect((await messages(tenantId))[0]!.status).toBe('delivered');
  });

  it('when DNS answers a public address at the check and a private one at connect time, then nothing is sent and the attempt fails with private_address', async () => {
    const { slug, tenantId } = await arrange(['lead.created']);
    // A destination whose name rebinds to this machine between the check and the connection.
    const port = new URL(receiver.url).port;
    const res = await request(t.app).post(`/v1/admin/tenants/${slug}/destinations`).set(asAdmin).send({ kind: 'webhook', url: `https://hook.rebind.example:${port}/hook/${slug}`, events: ['booking.created'] });
    expect(res.status).toBe(201);
    await book(slug, 'BOOKING_CREATED', { uid: 'rebind-1', ...attendee('gus@acme.example') });
    const m = (await messages(tenantId)).find((x) => x.event_type === 'booking.created')!;
    const answers: string[][] = [];
    const rebinding: ResolveHost = async () => {
      const a = answers.length === 0 ? ['93.184.215.14'] : ['127.0.0.1'];
      answers.push(a);
      return a;
    };
    const delivery = createCrmDelivery(ctx, { resolveHost: rebinding, random: half });
    const before = receiver.received.length;
    expect(await delivery.deliver(tenantId, m.id)).toBe('retry');
    expect(answers).toEqual([['93.184.215.14'], ['127.0.0.1']]);
    expect(receiver.received.length).toBe(before);
    const list = await request(t.app).get(`/v1/admin/tenants/${slug}/deliveries?status=pending`).set(asAdmin);
    const d = list.body.data.find((x: { id: string }) => x.id === m.id);
    expect(d.attempts.map((a: { outcome: string; error: string; statusCode: number | null }) => [a.outcome, a.error, a.statusCode])).toEqual([['retry', 'private_address', null]]);
    // Off, so later sweeps in this file never resolve the made-up name.
    await request(t.app).patch(`/v1/admin/tenants/${slug}/destinations/${res.body.id}`).set(asAdmin).send({ status: 'disabled' }).expect(200);
  });

  it('when the server is killed mid-delivery and restarted, then the outstanding messages go out right after the lease, each exactly once after dedupe by webhook-id', async () => {
    // Ahead of real time, so graphile (which compares run_at with the database's clock) only runs what the test moves.
    t.clock.set(new Date(Math.max(Date.now(), t.clock.now().getTime()) + 3_600_000));
    const { slug, tenantId } = await arrange();
    receiver.setHandler((r) => (mine(slug).length === 1 && r.path === `/hook/${slug}` ? 'hang' : { status: 200 }));
    await book(slug, 'BOOKING_CREATED', { uid: 'crash-1', ...attendee('finn@acme.example') });
    const [m1, m2] = await messages(tenantId);
    const logger = capturingLogger().logger;

    // The first server: a real worker takes m1's job, leases it and sends; the receiver stores it and never answers.
    const dying = killable(ctx);
    const first = await startWorker({ connectionString: t.database.ownerUrl, handlers: leadsCrmJobHandlers(dying.ctx, { random: half }), logger, pollIntervalMs: 50 });
    await expect.poll(() => mine(slug).length, { timeout: 10_000 }).toBe(1);
    const leasedAt = t.clock.now();
    // Killed: nothing it does reaches the database any more, and its job stays locked (as after SIGKILL).
    dying.kill();
    await first.stop();
    await t.database.owner.query(`UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'killed' WHERE key = $1`, [deliverJobKey(m1!.id)]);
    const held = (await t.database.owner.query(`SELECT status, lease_until FROM crm_messages WHERE id = $1`, [m1!.id])).rows[0];
    expect(held.status).toBe('pending');
    expect(held.lease_until.getTime()).toBe(leasedAt.getTime() + ctx.config.crm.timeoutMs + LEASE_MARGIN_MS);

    // Restarted through the boot path: the worker schedules a sweep for right after the longest lease.
    const second = await startWorker({ connectionString: t.database.ownerUrl, handlers: leadsCrmJobHandlers(ctx, { random: half }), logger, pollIntervalMs: 50 });
    try {
      await jobsOnWorkerStart(ctx);
      const job = await t.database.owner.query<{ run_at: Date }>(`SELECT run_at FROM graphile_worker._private_jobs WHERE key = $1`, [CRM_RECOVERY_SWEEP_KEY]);
      const runAt = job.rows[0]!.run_at;
      expect(runAt.getTime()).toBe(t.clock.now().getTime() + leaseMs(ctx.config) + 1000);
      expect(runAt.getTime()).toBeGreaterThan(held.lease_until.getTime());
      expect(mine(slug)).toHaveLength(1);

      // Time passes until the sweep is due, for the app's clock and for graphile alike.
      t.clock.set(runAt);
      await t.database.owner.query(`UPDATE graphile_worker._private_jobs SET run_at = now() WHERE key = $1`, [CRM_RECOVERY_SWEEP_KEY]);
      await expect.poll(async () => (await messages(tenantId)).map((m) => m.status), { timeout: 10_000 }).toEqual(['delivered', 'delivered']);
    } finally {
      await second.stop();
    }
    // m1 arrived twice (the killed attempt and the retry), with one webhook-id: after dedupe each message once, in order.
    const ids = mine(slug).map((r) => r.headers['webhook-id']);
    expect(ids).toEqual([webhookId(m1!.id), webhookId(m1!.id), webhookId(m2!.id)]);
    expect([...new Set(ids)]).toEqual([webhookId(m1!.id), webhookId(m2!.id)]);
    const attempts = await t.database.owner.query(`SELECT outcome FROM crm_attempts WHERE message_id = $1 ORDER BY id`, [m1!.id]);
    expect(attempts.rows.map((r) => r.outcome)).toEqual(['abandoned', 'delivered']);
  });
});
