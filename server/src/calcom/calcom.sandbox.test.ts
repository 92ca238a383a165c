import type { Express } from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SANDBOX_DEMO_API_KEY, SANDBOX_DEMO_EVENT_SLUG } from '../../../test/calcom-sandbox/index.js';
import { weekdayAtUtc } from '../../../test/calcom-sandbox/test-support.js';
import { createApp } from '../app.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { asAdmin, asMetrics } from '../test-support/app.js';
import { connectWithOAuth, PUBLIC_URL, seedCalcomUser, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { jobCrontab, jobHandlers } from '../jobs/handlers.js';
import { enqueue, startWorker } from '../jobs/queue.js';
import { createCalcom } from './calcom.js';
import { RECONCILE_TENANT_TASK } from './reconciliation.service.js';

let database: TestDatabase;
let h: CalcomHarness;
/** The busy tenant's own Cal.com account. */
let busyOwner: { username: string; apiKey: string };

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database);
  for (const slug of ['busy', 'heal', 'full', 'shop']) {
    const res = await request(h.instances[0]!.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [] });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await h.close();
  await database.drop();
});

const app = () => h.instances[0]!.app;

/**
 * Calls Cal.com (the sandbox) as its demo user would, outside Calbridge, or as another user with its
 * API key. One Cal.com account serves one tenant (decision 0034): the demo user is heal's, and the
 * other tenants here connect accounts of their own (seedCalcomUser).
 */
async function calApi(path: string, body?: unknown, apiKey = SANDBOX_DEMO_API_KEY): Promise<any> {
  const res = await fetch(`${h.sandbox.apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'cal-api-version': '2024-08-13', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: unknown };
  if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}

describe('one refresh for many requests across instances', () => {
  it('when fifty requests on two instances need a refresh at once, then Cal.com sees exactly one refresh and all fifty succeed', async () => {
    const second = h.addInstance();
    busyOwner = seedCalcomUser(h, 'busy-owner');
    expect((await connectWithOAuth(h, app(), 'busy', { as: busyOwner.username })).callback.status).toBe(200);
    const before = h.sandbox.control.stats().tokenRefreshes;
    h.clock.advance(29 * 60 * 1000);

    const calls = Array.from({ length: 50 }, (_, i) =>
      request(i % 2 === 0 ? app() : second.app).post('/v1/admin/tenants/busy/calcom/webhook').set(asAdmin),
    );
    const results = await Promise.all(calls);

    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(h.sandbox.control.stats().tokenRefreshes - before).toBe(1);
    const { rows } = await database.owner.query("SELECT token_version FROM calcom_connections c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'busy'");
    expect(rows[0].token_version).toBe(2);
  });
});

describe('the tenant webhook at Cal.com (string ids, 409, rotated secrets)', () => {
  const ours = async (slug: string) =>
    ((await (await fetch(`${h.sandbox.apiUrl}/webhooks`, { headers: { authorization: `Bearer ${busyOwner.apiKey}` } })).json()) as {
      data: Array<{ id: string; subscriberUrl: string; secret?: string }>;
    }).data.filter((w) => w.subscriberUrl === `${PUBLIC_URL}/v1/webhooks/calcom/${slug}`);

  it('when the webhook is listed, then its UUID id is read and stored as a string', async () => {
    const res = await request(app()).post('/v1/admin/tenants/busy/calcom/webhook').set(asAdmin);
    expect(res.status).toBe(200);
    const [hook] = await ours('busy');
    expect(res.body).toEqual({ action: 'updated', removedDuplicates: 0 });
    const { rows } = await database.owner.query("SELECT webhook_id FROM calcom_connections c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'busy'");
    expect(rows[0].webhook_id).toBe(hook!.id);
  });

  it('when Cal.com already has our webhook but the list missed it, then its 409 leads us to update that webhook instead of failing', async () => {
    const before = await ours('busy');
    let hidden = 0;
    h.intercept = (method, url) => {
      // One list answer without our webhook, as when a create's answer was lost and the list is stale.
      if (method === 'GET' && url.pathname.endsWith('/v2/webhooks') && hidden++ === 0) {
        return new Response(JSON.stringify({ status: 'success', data: [] }), { status: 200, headers: { 'content-type': 'application/json' } });
      }
      return undefined;
    };
    try {
      const res = await request(app()).post('/v1/admin/tenants/busy/calcom/webhook').set(asAdmin);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ action: 'updated', removedDuplicates: 0 });
    } finally {
      h.intercept = undefined;
    }
    expect((await ours('busy')).map((w) => w.id)).toEqual(before.map((w) => w.id));
  });

  it('when the tenant rotates its webhook secret, then the new secret is pushed to Cal.com with PATCH on the same webhook', async () => {
    const [before] = await ours('busy');
    const rotated = await request(app()).post('/v1/admin/tenants/busy/webhook-secret').set(asAdmin);
    expect(rotated.status).toBe(201);
    const { rows } = await database.owner.query<{ n: number }>("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'calcom.webhooks.sync'");
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
    // What the queued job runs:
    const calcom = createCalcom(h.instances[0]!.ctx, createTenantsService(h.instances[0]!.ctx));
    const tenant = await createTenantsService(h.instances[0]!.ctx).resolve('busy');
    await calcom.webhookRegistration.ensureById(tenant.id);
    const [after] = await ours('busy');
    expect(after!.id).toBe(before!.id);
    expect(after!.secret).toBe(rotated.body.secret);
  });
});

describe('reconciliation heals dropped webhooks', () => {
  it('when Cal.com drops every delivery, then reconcile creates what was missed and the result equals full delivery', async () => {
    // Arrange: two tenants, each on its own Cal.com account with its own webhook (one account serves
    // one tenant), and the same bookings made, cancelled and moved on both.
    const fullOwner = seedCalcomUser(h, 'full-owner');
    expect((await connectWithOAuth(h, app(), 'heal')).callback.status).toBe(200);
    expect((await connectWithOAuth(h, app(), 'full', { as: fullOwner.username })).callback.status).toBe(200);
    h.sandbox.control.setFaults({ drop: true });
    const firstDelivery = h.sandbox.control.deliveries().length;
    const now = new Date();
    const attendee = { name: 'Ada', email: 'ada@example.com', timeZone: 'Europe/London' };
    const story = async (username: string, apiKey: string) => {
      const made = (start: Date, extra: Record<string, unknown>) =>
        calApi('/bookings', { start: start.toISOString(), eventTypeSlug: SANDBOX_DEMO_EVENT_SLUG, username, attendee, ...extra }, apiKey);
      const a = await made(weekdayAtUtc(now, 3, 10), {});
      const b = await made(weekdayAtUtc(now, 3, 11), { attendee: { ...attendee, email: 'bob@example.com' } });
      const c = await made(weekdayAtUtc(now, 3, 12), { metadata: { ref: 'x1' } });
      await calApi(`/bookings/${b.uid}/cancel`, { cancellationReason: 'clash' }, apiKey);
      const moved = await calApi(`/bookings/${c.uid}/reschedule`, { start: weekdayAtUtc(now, 4, 13).toISOString() }, apiKey);
      return { a, b, c, moved } as Record<'a' | 'b' | 'c' | 'moved', { uid: string }>;
    };
    const { a, b, c, moved } = await story('demo', SANDBOX_DEMO_API_KEY);
    const onFull = await story(fullOwner.username, fullOwner.apiKey);
    await h.sandbox.control.flush();
    const dropped = h.sandbox.control.deliveries().slice(firstDelivery);
    expect(dropped.every((d) => d.state === 'dropped')).toBe(true);
    // 5 events on each account, each to its one subscriber
    expect(dropped.filter((d) => /\/calcom\/(heal|full)$/.test(d.subscriberUrl))).toHaveLength(10);
    h.sandbox.control.resetFaults();

    // Act 1: reconcile one tenant.
    const healed = await request(app()).post('/v1/admin/tenants/heal/reconcile').set(asAdmin);

    // Act 2: give the other tenant every delivery it should have had, in order.
    for (const d of dropped.filter((x) => x.subscriberUrl.endsWith('/calcom/full'))) {
      const res = await fetch(`${h.listening.url}${new URL(d.subscriberUrl).pathname}`, { method: 'POST', headers: d.headers, body: d.body });
      expect(res.status).toBe(200);
    }

    // Assert
    expect(healed.status).toBe(200);
    expect(healed.body).toEqual({ checked: 4, created: 4, updated: 0, skipped: 0 });
    const list = async (slug: string) => {
      const res = await request(app()).get(`/v1/admin/tenants/${slug}/bookings?limit=50`).set(asAdmin);
      expect(res.status).toBe(200);
      return (res.body.data as Record<string, unknown>[])
        .map(({ createdAt: _c, updatedAt: _u, ...rest }) => rest)
        .sort((x, y) => String(x.uid).localeCompare(String(y.uid)));
    };
    const viaReconcile = await list('heal');
    const viaWebhooks = await list('full');
    expect(viaReconcile.map((x) => x.uid).sort()).toEqual([a.uid, b.uid, c.uid, moved.uid].sort());
    // The same story on two accounts: equal records but for what each account has its own of (uids,
    // ids, the host, the video call's room), which are named by their part in the story instead.
    const parts = (ids: Record<string, { uid: string }>) => new Map(Object.entries(ids).map(([part, x]) => [x.uid, part]));
    const inStory = (records: Record<string, unknown>[], names: Map<string, string>) =>
      records
        .map(({ uid, rescheduledFromUid, rescheduledToUid, metadata, calcomId: _i, eventTypeId: _e, organizer: _o, title: _t, ...rest }) => ({
          ...rest,
          metadata: { ...(metadata as object), videoCallUrl: typeof (metadata as { videoCallUrl?: unknown }).videoCallUrl },
          uid: names.get(String(uid)),
          rescheduledFromUid: rescheduledFromUid == null ? rescheduledFromUid : names.get(String(rescheduledFromUid)),
          rescheduledToUid: rescheduledToUid == null ? rescheduledToUid : names.get(String(rescheduledToUid)),
        }))
        .sort((x, y) => String(x.uid).localeCompare(String(y.uid)));
    expect(inStory(viaReconcile, parts({ a, b, c, moved }))).toEqual(inStory(viaWebhooks, parts(onFull)));
    expect(viaReconcile.find((x) => x.uid === b.uid)).toMatchObject({ status: 'cancelled', cancellationReason: 'clash' });
    expect(viaReconcile.find((x) => x.uid === c.uid)).toMatchObject({ status: 'cancelled', rescheduledToUid: moved.uid });
  });

  it('when nothing changed since, then reconcile creates and updates nothing', async () => {
    const res = await request(app()).post('/v1/admin/tenants/heal/reconcile').set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 0, updated: 0 });
  });

  it('when a delivery is lost after a sync, then the next reconcile updates just that booking', async () => {
    h.sandbox.control.setFaults({ drop: true });
    const [first] = (await calApi('/bookings?status=upcoming&sortStart=asc')) as { uid: string }[];
    await calApi(`/bookings/${first!.uid}/cancel`, { cancellationReason: 'later' });
    await h.sandbox.control.flush();
    h.sandbox.control.resetFaults();
    const res = await request(app()).post('/v1/admin/tenants/heal/reconcile').set(asAdmin);
    expect(res.body).toMatchObject({ created: 0, updated: 1 });
    const booking = await request(app()).get(`/v1/admin/tenants/heal/bookings/${first!.uid}`).set(asAdmin);
    expect(booking.body.booking ?? booking.body).toMatchObject({ status: 'cancelled' });
  });

  it('when the tenant is not connected, then reconcile answers 409 calcom_not_connected', async () => {
    const res = await request(app()).post('/v1/admin/tenants/shop/reconcile').set(asAdmin);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('calcom_not_connected');
  });

  it('when the cron task runs, then one reconcile job per tenant is queued', async () => {
    const calcom = createCalcom(h.instances[0]!.ctx, createTenantsService(h.instances[0]!.ctx));
    expect(await calcom.reconciliation.enqueueAll()).toBe(4);
    const { rows } = await database.owner.query<{ n: number }>("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'calcom.reconcile.tenant'");
    expect(rows[0]!.n).toBe(4);
  });
});

describe('the reconcile job on the queue', () => {
  it('when the worker runs with our crontab and a tenant job is queued, then the missed booking reaches our bookings', async () => {
    h.sandbox.control.setFaults({ drop: true });
    const start = weekdayAtUtc(new Date(), 8, 14).toISOString();
    const missed = await calApi('/bookings', { start, eventTypeSlug: SANDBOX_DEMO_EVENT_SLUG, username: 'demo', attendee: { name: 'Lin', email: 'lin@example.com', timeZone: 'UTC' } });
    await h.sandbox.control.flush();
    h.sandbox.control.resetFaults();
    const ctx = h.instances[0]!.ctx;
    const tenant = await createTenantsService(ctx).resolve('heal');
    await ctx.db.withTenant(tenant.id, (tx) => enqueue(tx, RECONCILE_TENANT_TASK, { tenantId: tenant.id }));
    const worker = await startWorker({ connectionString: database.ownerUrl, handlers: jobHandlers(ctx), crontab: jobCrontab(), logger: ctx.logger, pollIntervalMs: 50 });
    try {
      await expect
        .poll(async () => (await request(app()).get(`/v1/admin/tenants/heal/bookings/${missed.uid}`).set(asAdmin)).status, { timeout: 10_000 })
        .toBe(200);
    } finally {
      await worker.stop();
    }
  });
});

describe('native booking', () => {
  const SHOP = 'https://shop.test';
  let session: string;
  let link: { sessionId: string; consentReceiptId: string };

  /** A widget session minted as the element does after consent, from the shop's page. */
  async function mintSession(): Promise<{ token: string; sessionId: string; consentReceiptId: string; scopes: string[] }> {
    const config = await request(app()).get('/v1/widget/shop/config').set('Origin', SHOP);
    expect(config.status).toBe(200);
    const res = await request(app())
      .post('/v1/widget/shop/sessions')
      .set('Origin', SHOP)
      .send({ consent: { version: config.body.consent.version, purposes: ['booking'] }, context: { pageUrl: `${SHOP}/book`, referrer: '', utm: {} } });
    expect(res.status).toBe(201);
    return res.body;
  }

  beforeAll(async () => {
    seedCalcomUser(h, 'shop-owner');
    expect((await request(app()).patch('/v1/admin/tenants/shop').set(asAdmin).send({ allowedOrigins: [SHOP], calLink: 'shop-owner/intro-call' })).status).toBe(200);
    expect((await connectWithOAuth(h, app(), 'shop', { as: 'shop-owner' })).callback.status).toBe(200);
    const s = await mintSession();
    expect(s.scopes).toEqual(['bookings:observe', 'bookings:create']);
    session = `Bearer ${s.token}`;
    link = { sessionId: s.sessionId, consentReceiptId: s.consentReceiptId };
  });

  /** The app as the widget calls it: from the shop's page, with its session. */
  const native = {
    get: (path: string) => request(app()).get(path).set('Origin', SHOP),
    post: (path: string) => request(app()).post(path).set('Origin', SHOP),
  };

  const window = () => {
    const start = weekdayAtUtc(new Date(), 6, 0);
    return { start: start.toISOString(), end: new Date(start.getTime() + 24 * 3600_000 - 1).toISOString() };
  };

  it('when the widget asks for slots, then they come grouped by day in its time zone', async () => {
    const res = await native
      .get('/v1/widget/shop/slots')
      .query({ eventType: SANDBOX_DEMO_EVENT_SLUG, ...window(), timeZone: 'America/New_York' })
      .set('Authorization', session);
    expect(res.status).toBe(200);
    expect(res.body.timeZone).toBe('America/New_York');
    expect(res.body.days.length).toBeGreaterThan(0);
    expect(res.body.days[0].slots[0].start).toMatch(/-0[45]:00$/);
  });

  it('when the query is wrong, then 400 invalid_request names the field', async () => {
    const res = await native.get('/v1/widget/shop/slots').query({ eventType: 'intro-call', start: 'soon', end: 'x', timeZone: 'Mars/Base' }).set('Authorization', session);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });

  it('when a visitor double-clicks book, then Cal.com gets one booking and both clicks get the same answer', async () => {
    const slots = await native.get('/v1/widget/shop/slots').query({ eventType: SANDBOX_DEMO_EVENT_SLUG, ...window(), timeZone: 'UTC' }).set('Authorization', session);
    const start = slots.body.days[0].slots[1].start as string;
    const body = { eventType: SANDBOX_DEMO_EVENT_SLUG, start, attendee: { name: 'Grace', email: 'grace@example.com', timeZone: 'UTC' } };
    const before = h.sandbox.control.bookings().length;
    const [one, two] = await Promise.all(
      [0, 1].map(() => native.post('/v1/widget/shop/bookings').set('Authorization', session).set('Idempotency-Key', 'click-0001-abcdef').send(body)),
    );
    expect([one!.status, two!.status]).toEqual([201, 201]);
    expect(one!.body.uid).toBe(two!.body.uid);
    expect([one!.headers['idempotent-replayed'], two!.headers['idempotent-replayed']].sort()).toEqual(['false', 'true']);
    expect(h.sandbox.control.bookings().length).toBe(before + 1);
    const ours = await request(app()).get(`/v1/admin/tenants/shop/bookings/${one!.body.uid}`).set(asAdmin);
    expect(ours.status).toBe(200);
    // Linked to the visitor's consent receipt, and marked as ours in Cal.com's metadata.
    const { rows } = await database.owner.query('SELECT session_id, consent_receipt_id, linked_by FROM booking_consent_links WHERE booking_uid = $1', [one!.body.uid]);
    expect(rows).toEqual([{ session_id: link.sessionId, consent_receipt_id: link.consentReceiptId, linked_by: 'native_booking' }]);
    const atCal = h.sandbox.control.bookings().find((b) => b.uid === one!.body.uid) as unknown as { metadata: Record<string, string> };
    expect(atCal.metadata).toMatchObject({ calbridge_tenant: 'shop', cb_session: link.sessionId, cb_receipt: link.consentReceiptId, cb_mode: 'native' });
  });

  it('when the same key comes with another body, then 422 idempotency_key_reused', async () => {
    const res = await native
      .post('/v1/widget/shop/bookings')
      .set('Authorization', session)
      .set('Idempotency-Key', 'click-0001-abcdef')
      .send({ eventType: SANDBOX_DEMO_EVENT_SLUG, start: window().start, attendee: { name: 'Eve', email: 'eve@example.com', timeZone: 'UTC' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('idempotency_key_reused');
  });

  it('when Cal.com ends the access token early, then the booking refreshes once, retries, and Cal.com gets one booking', async () => {
    const slots = await native.get('/v1/widget/shop/slots').query({ eventType: SANDBOX_DEMO_EVENT_SLUG, ...window(), timeZone: 'UTC' }).set('Authorization', session);
    const start = slots.body.days[0].slots[3].start as string;
    const refreshes = h.sandbox.control.stats().tokenRefreshes;
    const before = h.sandbox.control.bookings().length;
    h.sandbox.control.expireAccessTokens();
    const res = await native
      .post('/v1/widget/shop/bookings')
      .set('Authorization', session)
      .set('Idempotency-Key', 'click-0003-abcdef')
      .send({ eventType: SANDBOX_DEMO_EVENT_SLUG, start, attendee: { name: 'Ida', email: 'ida@example.com', timeZone: 'UTC' } });
    expect(res.status).toBe(201);
    expect(h.sandbox.control.stats().tokenRefreshes).toBe(refreshes + 1);
    expect(h.sandbox.control.bookings().length).toBe(before + 1);
    expect(h.sandbox.control.bookings().some((b) => b.uid === res.body.uid)).toBe(true);
  });

  it("when the visitor's page is en-GB, then Cal.com is sent its own code 'en' (not a value its BookingLanguage enum refuses) and the booking is made", async () => {
    const slots = await native.get('/v1/widget/shop/slots').query({ eventType: SANDBOX_DEMO_EVENT_SLUG, ...window(), timeZone: 'UTC' }).set('Authorization', session);
    const start = slots.body.days[0].slots[5].start as string;
    // A fresh session: the first one has made its two bookings (the per-session cap).
    const fresh = await mintSession();
    const res = await native
      .post('/v1/widget/shop/bookings')
      .set('Authorization', `Bearer ${fresh.token}`)
      .set('Idempotency-Key', 'click-lang-en-gb-01')
      .send({ eventType: SANDBOX_DEMO_EVENT_SLUG, start, attendee: { name: 'Oli', email: 'oli@example.com', timeZone: 'Europe/London', language: 'en-GB' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const atCal = h.sandbox.control.bookings().find((b) => b.uid === res.body.uid) as unknown as { attendees: Array<{ language: string }> };
    expect(atCal.attendees[0]!.language).toBe('en');
  });

  it('when there is no Idempotency-Key, then 400 idempotency_key_required', async () => {
    const res = await native.post('/v1/widget/shop/bookings').set('Authorization', session).send({});
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('idempotency_key_required');
  });

  it('when the slot is taken, then 422 calcom_rejected and the key can be used again', async () => {
    const [taken] = h.sandbox.control
      .bookings()
      .filter((x) => x.status === 'accepted' && (x.hosts as Array<{ username: string }>)[0]?.username === 'shop-owner') as unknown as { start: string }[];
    // A fresh session: the first one has made its two bookings (the per-session cap).
    const fresh = await mintSession();
    const res = await native
      .post('/v1/widget/shop/bookings')
      .set('Authorization', `Bearer ${fresh.token}`)
      .set('Idempotency-Key', 'click-0002-abcdef')
      .send({ eventType: SANDBOX_DEMO_EVENT_SLUG, start: taken!.start, attendee: { name: 'Eve', email: 'eve@example.com', timeZone: 'UTC' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('calcom_rejected');
    const { rows } = await database.owner.query("SELECT count(*)::int AS n FROM calcom_booking_requests WHERE idempotency_key = 'click-0002-abcdef'");
    expect(rows[0].n).toBe(0);
  });

  it('when the widget has no session, then 401 session_missing', async () => {
    const res = await native.get('/v1/widget/shop/slots').query({ eventType: SANDBOX_DEMO_EVENT_SLUG, ...window(), timeZone: 'UTC' });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('session_missing');
  });

  it('when an unknown tenant is asked for, then 404 tenant_not_found', async () => {
    const res = await native.get('/v1/widget/nobody/slots').set('Authorization', session);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
  });

  it('when our intake URL is used, then it is the public URL with the tenant slug', () => {
    expect(PUBLIC_URL).toBe(h.config.publicUrl);
  });
});

describe('a native session answer carries its first page of free times (decision 0027)', () => {
  const SITE = 'https://first.test';
  /** The page the picker shows first, as the widget names it in the session request. */
  const page = () => {
    const start = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - 1));
    return { eventType: SANDBOX_DEMO_EVENT_SLUG, start: start.toISOString(), end: new Date(start.getTime() + 30 * 86_400_000).toISOString(), timeZone: 'UTC' };
  };
  /** Cal.com's own answer to a slots request our server made (the intercept sees only its URL). */
  const calcomSlots = (url: URL) => globalThis.fetch(url, { headers: { 'cal-api-version': '2024-09-04' } });
  /** Requests our server made to Cal.com's `/v2/slots`, counted at its fetch. */
  let slotCalls = 0;

  /**
   * An instance that waits up to 5 s for the first page, where a test needs Cal.com's answer to
   * be in the session's whatever the machine's load; the default instance keeps the default deadline.
   */
  let patient: Express;

  async function mint(slug: string, extra: Record<string, unknown> = {}, via: Express = app()): Promise<request.Response> {
    const config = await request(via).get(`/v1/widget/${slug}/config`).set('Origin', SITE);
    expect(config.status).toBe(200);
    return request(via)
      .post(`/v1/widget/${slug}/sessions`)
      .set('Origin', SITE)
      .send({ consent: { version: config.body.consent.version, purposes: ['booking'] }, context: { pageUrl: `${SITE}/book`, referrer: '', utm: {} }, ...extra });
  }
  const slotsRoute = (slug: string, token: string, q: Record<string, string>) =>
    request(app()).get(`/v1/widget/${slug}/slots`).query(q).set('Origin', SITE).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    // Two tenants on two Cal.com accounts with different hours: an account with the demo user's
    // weekdays 9–17, and one whose intro call is only on Saturdays.
    const { db, fetch, clock, logger } = h.instances[0]!.ctx;
    patient = createApp({ config: { ...h.config, sessionSlotsDeadlineMs: 5_000 }, db, fetch, clock, logger });
    h.sandbox.control.seedUser({ username: 'saturday-owner' });
    h.sandbox.control.seedEventType({ username: 'saturday-owner', slug: SANDBOX_DEMO_EVENT_SLUG, days: [6], startTime: '10:00', endTime: '12:00' });
    for (const slug of ['first', 'other', 'unlinked']) {
      expect((await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [SITE], calLink: 'first-owner/intro-call' })).status).toBe(201);
    }
    seedCalcomUser(h, 'first-owner');
    expect((await connectWithOAuth(h, app(), 'first', { as: 'first-owner' })).callback.status).toBe(200);
    h.sandbox.control.setOAuthBehaviour({ username: 'saturday-owner' });
    try {
      expect((await connectWithOAuth(h, app(), 'other')).callback.status).toBe(200);
    } finally {
      h.sandbox.control.setOAuthBehaviour({ username: 'demo' });
    }
  });
  beforeEach(() => {
    slotCalls = 0;
    h.intercept = (_method, url) => {
      if (url.pathname.endsWith('/v2/slots')) slotCalls++;
      return undefined;
    };
  });
  afterEach(() => {
    h.intercept = undefined;
  });

  it('when a native session is minted with its first page named, then its answer carries those free times, the same the slots route answers', async () => {
    const q = page();
    const res = await mint('first', { slots: q }, patient);
    expect(res.status).toBe(201);
    expect(res.body.scopes).toContain('bookings:create');
    expect(res.body.slots).toMatchObject({ eventType: q.eventType, timeZone: 'UTC', start: q.start, end: q.end });
    expect(res.body.slots.days.length).toBeGreaterThan(0);
    const route = await slotsRoute('first', res.body.token, q);
    expect(route.status).toBe(200);
    expect(res.body.slots.days).toEqual(route.body.days);
  });

  it("when two tenants' sessions name the same page, then each answer carries its own Cal.com account's free times only", async () => {
    const q = page();
    const [first, other] = await Promise.all([mint('first', { slots: q }, patient), mint('other', { slots: q }, patient)]);
    const weekdays = (days: Array<{ date: string }>) => new Set(days.map((d) => new Date(`${d.date}T00:00:00Z`).getUTCDay()));
    expect(first.status).toBe(201);
    expect(other.status).toBe(201);
    expect(weekdays(other.body.slots.days)).toEqual(new Set([6]));
    expect([...weekdays(first.body.slots.days)].every((d) => d >= 1 && d <= 5)).toBe(true);
    expect(other.body.slots.days).toEqual((await slotsRoute('other', other.body.token, q)).body.days);
  });

  it('when Cal.com fails, then the session still answers, without free times', async () => {
    h.intercept = (_method, url) => (url.pathname.endsWith('/v2/slots') ? new Response('{"status":"error"}', { status: 500 }) : undefined);
    const res = await mint('first', { slots: page() }, patient);
    expect(res.status).toBe(201);
    expect(res.body.scopes).toContain('bookings:create');
    expect(res.body).not.toHaveProperty('slots');
  });

  it('when Cal.com has not answered by the deadline, then the session answers without free times, and the picker gets them with its own request', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    h.intercept = (_method, url) => (url.pathname.endsWith('/v2/slots') ? held.then(() => calcomSlots(url)) : undefined);
    const q = page();
    // Cal.com answers only after the session has: slower than the deadline, whatever it is.
    const res = await mint('first', { slots: q });
    release();
    expect(res.status).toBe(201);
    expect(res.body.scopes).toContain('bookings:create');
    expect(res.body).not.toHaveProperty('slots');
    const picker = await slotsRoute('first', res.body.token, q);
    expect(picker.status).toBe(200);
    expect(picker.body.days.length).toBeGreaterThan(0);
  });

  it('when the same page of the same tenant is asked for while a call for it is in flight, then Cal.com is asked once; another tenant gets its own call', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    h.intercept = (_method, url) => {
      if (!url.pathname.endsWith('/v2/slots')) return undefined;
      slotCalls++;
      return held.then(() => calcomSlots(url));
    };
    const ctx = h.instances[0]!.ctx;
    const tenants = createTenantsService(ctx);
    const native = createCalcom(ctx, tenants).native;
    const [first, other] = [(await tenants.find('first'))!, (await tenants.find('other'))!];
    const q = page();
    // The session's call, then the picker's while it is in flight (no await in between).
    const calls = [native.slots(first, q), native.slots(first, q), native.slots(other, q)];
    await vi.waitFor(() => expect(slotCalls).toBe(2));
    release();
    const [a, b, c] = await Promise.all(calls);
    expect(b).toEqual(a);
    expect(c!.days).not.toEqual(a!.days);
    expect(slotCalls).toBe(2);
    // Once answered, nothing is kept: the next ask is a new call.
    await native.slots(first, q);
    expect(slotCalls).toBe(3);
  });

  it('when the slots query cannot be read, then the session answers without free times and Cal.com is not asked', async () => {
    const res = await mint('first', { slots: { ...page(), timeZone: 'Mars/Base' } }, patient);
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('slots');
    expect(slotCalls).toBe(0);
  });

  it('when a session request with a first page is refused (consent text outdated), then 400 consent_invalid and Cal.com is not asked', async () => {
    const res = await request(patient)
      .post('/v1/widget/first/sessions')
      .set('Origin', SITE)
      .send({ consent: { version: '2000-01-01', purposes: ['booking'] }, context: { pageUrl: `${SITE}/book`, referrer: '', utm: {} }, slots: page() });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('consent_invalid');
    // The tenant's Cal.com user was being looked up meanwhile; Cal.com itself waits for admission.
    await new Promise<void>((r) => setImmediate(r));
    expect(slotCalls).toBe(0);
  });

  it('when the tenant cannot book natively (no Cal.com connection), then its session carries no free times and Cal.com is not asked', async () => {
    const res = await mint('unlinked', { slots: page() }, patient);
    expect(res.status).toBe(201);
    expect(res.body.scopes).toEqual(['bookings:observe']);
    expect(res.body).not.toHaveProperty('slots');
    expect(slotCalls).toBe(0);
  });
});

describe('reconciliation reads real Cal.com outputs item by item and heals metadata, no-shows and statuses', () => {
  /** Each tenant's own Cal.com account (one account serves one tenant). */
  const owners = new Map<string, { username: string; apiKey: string }>();

  beforeAll(async () => {
    for (const slug of ['loose', 'meta', 'odd']) {
      expect((await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [] })).status).toBe(201);
      owners.set(slug, seedCalcomUser(h, `${slug}-owner`));
      expect((await connectWithOAuth(h, app(), slug, { as: `${slug}-owner` })).callback.status).toBe(200);
    }
  });

  const ourBooking = async (slug: string, uid: string) => {
    const res = await request(app()).get(`/v1/admin/tenants/${slug}/bookings/${uid}`).set(asAdmin);
    expect(res.status).toBe(200);
    return (res.body.booking ?? res.body) as Record<string, any>;
  };

  /** A booking made at Cal.com, on the tenant's account, while every delivery to us is lost. */
  async function missedBooking(slug: string, daysAhead: number, hour: number): Promise<any> {
    const { username, apiKey } = owners.get(slug)!;
    h.sandbox.control.setFaults({ drop: true });
    try {
      const start = weekdayAtUtc(new Date(), daysAhead, hour).toISOString();
      return await calApi('/bookings', { start, eventTypeSlug: SANDBOX_DEMO_EVENT_SLUG, username, attendee: { name: 'Kim', email: 'kim@example.com', timeZone: 'UTC' } }, apiKey);
    } finally {
      await h.sandbox.control.flush();
      h.sandbox.control.resetFaults();
    }
  }

  it('when Cal.com returns the loose cases (deleted event type, nameless or unknown host, awaiting_host, null updatedAt, "" reason), then every booking is read and stored', async () => {
    const a = await missedBooking('loose', 18, 9);
    const b = await missedBooking('loose', 18, 10);
    h.sandbox.control.loosenBooking(a.uid, { eventTypeDeleted: true, hostNameNull: true, updatedAtNull: true, status: 'awaiting_host' });
    h.sandbox.control.loosenBooking(b.uid, { noUser: true, cancellationReasonEmpty: true });
    const res = await request(app()).post('/v1/admin/tenants/loose/reconcile').set(asAdmin);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.skipped).toBe(0);
    expect(await ourBooking('loose', a.uid)).toMatchObject({ status: 'awaiting_host', eventTypeId: null });
    expect(await ourBooking('loose', b.uid)).toMatchObject({ status: 'accepted' });
  });

  it('when one item of a page cannot be read, then it is logged without personal data, counted, skipped, and the rest of the page is applied', async () => {
    const good = await missedBooking('odd', 19, 9);
    const page = (await (await fetch(`${h.sandbox.apiUrl}/bookings?take=100`, { headers: { authorization: `Bearer ${owners.get('odd')!.apiKey}`, 'cal-api-version': '2024-08-13' } })).json()) as {
      data: unknown[];
      pagination: unknown;
    };
    const broken = { id: 'not-a-number', uid: 'broken-uid-1', status: 'accepted', attendees: [{ email: 'secret.person@example.com', name: 'Secret Person' }] };
    h.intercept = (method, url) =>
      method === 'GET' && url.pathname.endsWith('/v2/bookings')
        ? new Response(JSON.stringify({ status: 'success', data: [broken, ...page.data], pagination: { ...(page.pagination as object), hasNextPage: false } }), {
            status: 200,
            headers: { 'content-type': 'application/json' },
          })
        : undefined;
    let res: request.Response;
    try {
      res = await request(app()).post('/v1/admin/tenants/odd/reconcile').set(asAdmin);
    } finally {
      h.intercept = undefined;
    }
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.skipped).toBe(1);
    expect(res.body.checked).toBe(page.data.length);
    expect((await ourBooking('odd', good.uid)).uid).toBe(good.uid);
    const logs = h.instances[0]!.logLines.join('\n');
    expect(logs).toContain('reconciliation skipped a booking it cannot read');
    expect(logs).not.toContain('secret.person@example.com');
    expect(logs).not.toContain('Secret Person');
    const metrics = await request(app()).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_calcom_reconciled_bookings_total\{result="unreadable"\} 1/);
  });

  it('when a confirmation delivery carried only { videoCallUrl }, then reconcile merges back cb_receipt and the UTM keys, dropping nothing', async () => {
    const { username, apiKey } = owners.get('meta')!;
    h.sandbox.control.seedEventType({ username, slug: 'needs-ok', requiresConfirmation: true });
    const start = weekdayAtUtc(new Date(), 16, 13).toISOString();
    const booking = await calApi(
      '/bookings',
      {
        start,
        eventTypeSlug: 'needs-ok',
        username,
        attendee: { name: 'Mo', email: 'mo@example.com', timeZone: 'UTC' },
        metadata: { cb_receipt: 'rcpt-123', utm_source: 'newsletter', calbridge_tenant: 'meta' },
      },
      apiKey,
    );
    h.sandbox.control.confirmBooking(booking.uid);
    await h.sandbox.control.flush();
    const res = await request(app()).post('/v1/admin/tenants/meta/reconcile').set(asAdmin);
    expect(res.status).toBe(200);
    const ours = await ourBooking('meta', booking.uid);
    expect(ours.status).toBe('accepted');
    expect(ours.metadata).toMatchObject({ cb_receipt: 'rcpt-123', utm_source: 'newsletter', calbridge_tenant: 'meta', videoCallUrl: expect.any(String) });
  });

  it('when a no-show mark was never delivered, then reconcile sets it on the attendee', async () => {
    const booking = await missedBooking('meta', 17, 14);
    await request(app()).post('/v1/admin/tenants/meta/reconcile').set(asAdmin);
    h.sandbox.control.setFaults({ drop: true });
    h.sandbox.control.markNoShow(booking.uid, [{ email: 'kim@example.com', absent: true }]);
    await h.sandbox.control.flush();
    h.sandbox.control.resetFaults();
    const res = await request(app()).post('/v1/admin/tenants/meta/reconcile').set(asAdmin);
    expect(res.body.updated).toBeGreaterThanOrEqual(1);
    const ours = await ourBooking('meta', booking.uid);
    expect(ours.attendees).toEqual([expect.objectContaining({ email: 'kim@example.com', noShow: true })]);
  });
});
