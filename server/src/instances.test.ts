import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createContext } from './app.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { CRM_SWEEP_TASK } from './crm/crm.delivery.js';
import { deliverJobKey } from './crm/crm.outbox.js';
import { webhookId } from './crm/crm.webhook-sender.js';
import { loopbackOnlyFetch, startReceiver, type Receiver } from './crm/test-support/receiver.js';
import { createChangeFeed, type ChangeFeed } from './db/changes.js';
import { createDb, type Db } from './db/db.js';
import { startWorker, type JobHandler, type Worker } from './jobs/queue.js';
import { leadsCrmJobHandlers } from './leads/leads.jobs.js';
import { asAdmin, capturingLogger, testConfig } from './test-support/app.js';
import { createTestDatabase, type TestDatabase } from './test-support/database.js';
import { bookingBody, deliver } from './webhooks/webhooks.test-support.js';
import { DEFAULT_CONSENT } from './widget/widget.service.js';

// Three instances of the server on one PostgreSQL, as three processes behind a load balancer:
// each its own pool, change listener, app and job worker (graphile-worker, real polling);
// nothing shared but the database, the clock (real time plus an offset the test moves, as
// one wall clock for all) and the CRM receiver.

const ORIGIN = 'https://www.instances.test';
const GRACE_SECONDS = 30;
const CRM_TIMEOUT_MS = 2000;
const half = () => 0.5;

interface Instance {
  name: string;
  app: Express;
  ctx: AppContext;
  db: Db;
  changes: ChangeFeed;
  worker: Worker;
  /** Messages this instance's worker is sending now. */
  sending: Set<string>;
  /** After kill(), nothing this instance does reaches the database any more (as after SIGKILL). */
  kill(): void;
}

let database: TestDatabase;
let receiver: Receiver;
let instances: Instance[];
let offsetMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };

let config: Config;
/** One configuration for all, as a deployment gives every instance the same environment (key ring included). */
function sharedConfig(): Config {
  return testConfig({
    DATABASE_URL: database.ownerUrl,
    PUBLIC_URL: 'https://calbridge.test',
    CALCOM_APP_URL: 'https://cal.example.test',
    CALBRIDGE_WEBHOOK_SECRET_GRACE_SECONDS: String(GRACE_SECONDS),
    CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS: 'true',
    CALBRIDGE_CRM_TIMEOUT_MS: String(CRM_TIMEOUT_MS),
  });
}

async function startInstance(name: string): Promise<Instance> {
  const { logger } = capturingLogger();
  const real = createDb({ connectionString: database.ownerUrl, max: 5 });
  let dead = false;
  const guard = () => {
    if (dead) throw new Error(`${name} was killed`);
  };
  const db: Db = {
    withTenant: async (id, fn) => (guard(), real.withTenant(id, fn)),
    withPlatform: async (fn) => (guard(), real.withPlatform(fn)),
    ready: (n) => real.ready(n),
    close: () => real.close(),
    get pool() {
      return real.pool;
    },
  };
  const changes = createChangeFeed({ connectionString: database.ownerUrl, logger });
  await changes.whenLive();
  const ctx = createContext({ config, db, fetch: loopbackOnlyFetch, clock, logger, changes });
  const sending = new Set<string>();
  const handlers = leadsCrmJobHandlers(ctx, { random: half });
  const deliverTask: JobHandler = async (payload, job) => {
    const id = String(payload.messageId);
    sending.add(id);
    try {
      await handlers['crm.deliver']!(payload, job);
    } finally {
      sending.delete(id);
    }
  };
  const worker = await startWorker({
    connectionString: database.ownerUrl,
    handlers: { ...handlers, 'crm.deliver': deliverTask },
    logger,
    concurrency: 2,
    pollIntervalMs: 50,
  });
  return { name, app: createApp(ctx), ctx, db: real, changes, worker, sending, kill: () => void (dead = true) };
}

beforeAll(async () => {
  database = await createTestDatabase();
  receiver = await startReceiver();
  config = sharedConfig();
  instances = [];
  for (const name of ['a', 'b', 'c']) instances.push(await startInstance(name));
}, 60_000);
afterAll(async () => {
  for (const i of instances ?? []) {
    await i.worker.stop().catch(() => undefined);
    await i.changes.close();
    await i.db.close().catch(() => undefined);
  }
  await receiver?.close();
  await database?.drop();
});

/** A tenant created through instance a, with a Cal.com webhook secret rotated in through b and a CRM destination made through c. */
async function arrange(slug: string): Promise<{ tenantId: string; calSecret: string; destinationId: string }> {
  const [a, b, c] = instances as [Instance, Instance, Instance];
  const created = await request(a.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [ORIGIN], calLink: `${slug}/intro` });
  expect(created.status).toBe(201);
  const rotated = await request(b.app).post(`/v1/admin/tenants/${slug}/webhook-secret`).set(asAdmin);
  expect(rotated.status).toBe(201);
  const dest = await request(c.app).post(`/v1/admin/tenants/${slug}/destinations`).set(asAdmin).send({ kind: 'webhook', url: `${receiver.url}/hook/${slug}` });
  expect(dest.status).toBe(201);
  return { tenantId: created.body.id as string, calSecret: rotated.body.secret as string, destinationId: dest.body.id as string };
}

const attendee = (email: string) => ({ attendees: [{ name: 'Pat Person', email, timeZone: 'Europe/London' }] });
const arrivals = (slug: string) => receiver.received.filter((r) => r.path === `/hook/${slug}`);

async function messages(tenantId: string) {
  return (
    await database.owner.query<{ id: string; status: string }>(`SELECT id::text, status FROM crm_messages WHERE tenant_id = $1 ORDER BY seq`, [tenantId])
  ).rows;
}

/** Jobs of these tasks queued or running (a job leaves the table when it completes), leaving out one a killed worker holds. */
async function queued(tasks: string[]): Promise<number> {
  const r = await database.owner.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = ANY ($1::text[]) AND j.locked_by IS DISTINCT FROM 'killed'`,
    [tasks],
  );
  return r.rows[0]!.n;
}

/** Resolves once the workers have nothing left for the tenant and every CRM message of it is delivered (the signal is the database). */
async function allDelivered(tenantId: string): Promise<{ id: string; status: string }[]> {
  await expect
    .poll(async () => {
      if ((await queued(['booking.changed', 'crm.deliver', CRM_SWEEP_TASK])) > 0) return false;
      const m = await messages(tenantId);
      return m.length > 0 && m.every((x) => x.status === 'delivered');
    }, { timeout: 30_000, interval: 50 })
    .toBe(true);
  return messages(tenantId);
}

describe('three instances on one database', () => {
  it('when signed deliveries and their retries are spread across the instances, then each booking is stored once and each CRM message is sent once', async () => {
    const slug = 'spread';
    const { tenantId, calSecret } = await arrange(slug);
    const N = 24;
    const bodies = Array.from({ length: N }, (_, i) =>
      bookingBody('BOOKING_CREATED', clock.now(), { uid: `spread-${i}`, metadata: {}, ...attendee(`person${i % 8}@spread.example`) }),
    );
    // Each delivery reaches one instance, and Cal.com's retry of it another, at the same moment.
    const answers = await Promise.all(
      bodies.flatMap((body, i) => [
        deliver(instances[i % 3]!.app, slug, body, { secret: calSecret }),
        deliver(instances[(i + 1) % 3]!.app, slug, body, { secret: calSecret }),
      ]),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(2 * N).fill(200));
    expect(answers.filter((r) => r.body.duplicate === false)).toHaveLength(N);

    const stored = await database.owner.query<{ uid: string; bookings: number; inbox: number; events: number }>(
      `SELECT b.uid, count(DISTINCT b.uid)::int AS bookings,
              (SELECT count(*)::int FROM webhook_inbox i WHERE i.tenant_id = b.tenant_id AND i.booking_uid = b.uid) AS inbox,
              (SELECT count(*)::int FROM booking_events e WHERE e.tenant_id = b.tenant_id AND e.booking_uid = b.uid) AS events
         FROM bookings b WHERE b.tenant_id = $1 GROUP BY b.tenant_id, b.uid ORDER BY b.uid`,
      [tenantId],
    );
    expect(stored.rows).toHaveLength(N);
    expect(stored.rows.every((r) => r.bookings === 1 && r.inbox === 1 && r.events === 1)).toBe(true);

    // booking.changed jobs (three workers) become lead and booking messages, sent by whichever worker takes each.
    const sent = await allDelivered(tenantId);
    expect(sent.length).toBeGreaterThanOrEqual(N + 8); // a booking.created each, a lead.created per person, lead.updated
    const ids = arrivals(slug).map((r) => r.headers['webhook-id']);
    expect(ids.sort()).toEqual(sent.map((m) => webhookId(m.id)).sort());
    expect(new Set(ids).size).toBe(ids.length);
  }, 60_000);

  it('when a widget session is minted by one instance, then the others accept it', async () => {
    const slug = 'sessions';
    await arrange(slug);
    const consent = DEFAULT_CONSENT('https://calbridge.test');
    const minted = await request(instances[0]!.app)
      .post(`/v1/widget/${slug}/sessions`)
      .set('Origin', ORIGIN)
      .set('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')
      .send({ consent: { version: consent.version, purposes: ['booking'] }, context: { pageUrl: `${ORIGIN}/book`, referrer: '', utm: {} } });
    expect(minted.status).toBe(201);
    for (const [k, other] of instances.slice(1).entries()) {
      const observed = await request(other.app)
        .post(`/v1/widget/${slug}/bookings/observed`)
        .set('Origin', ORIGIN)
        .set('Authorization', `Bearer ${minted.body.token as string}`)
        .send({ uid: `observed-${k}`, startTime: '2026-12-10T09:00:00.000Z', endTime: '2026-12-10T09:30:00.000Z', eventTypeId: 7, eventType: 'intro', status: 'ACCEPTED' });
      expect(observed.status, other.name).toBeLessThan(300);
    }
  });

  it('when the webhook secret is rotated through one instance, then the new one verifies at the others at once and the old one until its grace ends', async () => {
    const slug = 'rotation';
    const { calSecret: old } = await arrange(slug);
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const body = (i: number) => bookingBody('BOOKING_CREATED', clock.now(), { uid: `rot-${i}`, metadata: {}, ...attendee(`rot${i}@rotation.example`) });
    // b and c have verified with the old secret: it sits in their caches.
    for (const [i, x] of [b, c].entries()) expect((await deliver(x.app, slug, body(i), { secret: old })).status).toBe(200);

    const rotated = await request(a.app).post(`/v1/admin/tenants/${slug}/webhook-secret`).set(asAdmin);
    expect(rotated.status).toBe(201);
    const fresh = rotated.body.secret as string;
    for (const [i, x] of [b, c].entries()) {
      expect((await deliver(x.app, slug, body(10 + i), { secret: fresh })).status, `new secret at ${x.name}`).toBe(200);
      expect((await deliver(x.app, slug, body(20 + i), { secret: old })).status, `old secret in grace at ${x.name}`).toBe(200);
    }

    offsetMs += (GRACE_SECONDS + 1) * 1000;
    for (const [i, x] of [b, c].entries()) {
      const late = await deliver(x.app, slug, body(30 + i), { secret: old });
      expect(late.status, `old secret after grace at ${x.name}`).toBe(401);
      expect(late.body.code).toBe('signature_invalid');
      expect((await deliver(x.app, slug, body(40 + i), { secret: fresh })).status).toBe(200);
    }
  });

  it('when an instance is killed in the middle of sending a CRM message, then the others send it after its lease, and the rest of the lead after it', async () => {
    const slug = 'killed';
    const { tenantId, calSecret } = await arrange(slug);
    // The first message to arrive is stored by the receiver and never answered: its sender is mid-request.
    receiver.setHandler((r) => (r.path === `/hook/${slug}` && arrivals(slug).length === 1 ? 'hang' : { status: 204 }));
    expect((await deliver(instances[0]!.app, slug, bookingBody('BOOKING_CREATED', clock.now(), { uid: 'kill-1', metadata: {}, ...attendee('kim@killed.example') }), { secret: calSecret })).status).toBe(200);

    await expect.poll(() => arrivals(slug).length, { timeout: 20_000, interval: 20 }).toBe(1);
    const first = (await messages(tenantId))[0]!;
    const dying = instances.find((i) => i.sending.has(first.id))!;
    expect(dying).toBeDefined();
    const leasedUntil = (await database.owner.query<{ lease_until: Date }>('SELECT lease_until FROM crm_messages WHERE id = $1', [first.id])).rows[0]!.lease_until;
    // Killed: its database calls stop, and the job it held stays locked, as after SIGKILL.
    dying.kill();
    await dying.worker.stop();
    await database.owner.query(`UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'killed' WHERE key = $1`, [deliverJobKey(first.id)]);
    expect((await messages(tenantId)).every((m) => m.status === 'pending')).toBe(true);

    // Until the lease ends the others leave it alone: a sweep now hands out nothing of this tenant.
    await database.owner.query(`SELECT graphile_worker.add_job($1, '{}'::json)`, [CRM_SWEEP_TASK]);
    await expect.poll(() => queued([CRM_SWEEP_TASK, 'crm.deliver']), { timeout: 10_000, interval: 20 }).toBe(0);
    expect(arrivals(slug)).toHaveLength(1);

    // The lease runs out (the clock passes it); the survivors' next sweep (their every-minute cron) finds the message.
    offsetMs = leasedUntil.getTime() - Date.now() + 1000;
    await database.owner.query(`SELECT graphile_worker.add_job($1, '{}'::json)`, [CRM_SWEEP_TASK]);
    const sent = await allDelivered(tenantId);
    expect(sent.length).toBeGreaterThanOrEqual(2);

    // The killed attempt and the survivors' one carry the same webhook-id: after dedupe, each message once, in order.
    const ids = arrivals(slug).map((r) => r.headers['webhook-id']);
    expect(ids).toEqual([webhookId(first.id), ...sent.map((m) => webhookId(m.id))]);
    const attempts = await database.owner.query(`SELECT outcome FROM crm_attempts WHERE message_id = $1 ORDER BY id`, [first.id]);
    expect(attempts.rows.map((r) => r.outcome)).toEqual(['abandoned', 'delivered']);
    receiver.setHandler(() => ({ status: 204 }));
  }, 60_000);
});
