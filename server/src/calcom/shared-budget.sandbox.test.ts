import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_EVENT_SLUG } from '../../../test/calcom-sandbox/index.js';
import { weekdayAtUtc } from '../../../test/calcom-sandbox/test-support.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { asAdmin, asMetrics } from '../test-support/app.js';
import { connectWithOAuth, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { CalcomRateLimited, CalcomRefreshBudgetSpent } from './calcom.errors.js';
import { createCalcom } from './calcom.js';
import { createSharedBudget } from './shared-budget.service.js';

// Cal.com counts token refreshes across tenants (decision 0030): OAuth refreshes by our address,
// managed-user refreshes by the platform client (apps/api/v2/src/lib/throttler-guard.ts getTracker).
// Every instance takes from one budget in PostgreSQL before such a call. Real PostgreSQL, two
// instances of the server, and the sandbox, whose throttler counts as Cal.com's guard does.

const LIMIT = 4;
const WINDOW_MS = 60_000;
const SHOP = 'https://shop.test';

let database: TestDatabase;
let h: CalcomHarness;
/** tenant slug → id, each connected through OAuth as its own Cal.com user (Cal.com keeps one live refresh token per user and client). */
const tenants = new Map<string, string>();

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database, {
    LOG_LEVEL: 'info',
    CALBRIDGE_CALCOM_TOKEN_ENDPOINT_LIMIT: String(LIMIT),
    CALBRIDGE_CALCOM_PLATFORM_CLIENT_LIMIT: String(LIMIT),
    // Background work leaves half to visitors: a cap of 2 of 4.
    CALBRIDGE_CALCOM_REFRESH_RESERVE_PERCENT: '50',
  });
  h.addInstance();
  for (let i = 0; i < 8; i++) {
    const slug = `t${i}`;
    const res = await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [SHOP], calLink: `user${i}/${SANDBOX_DEMO_EVENT_SLUG}` });
    expect(res.status).toBe(201);
    h.sandbox.control.seedUser({ username: `user${i}`, email: `user${i}@example.com` });
    h.sandbox.control.seedEventType({ username: `user${i}`, slug: SANDBOX_DEMO_EVENT_SLUG });
    h.sandbox.control.setOAuthBehaviour({ username: `user${i}` });
    expect((await connectWithOAuth(h, app(), slug)).callback.status).toBe(200);
    tenants.set(slug, (await createTenantsService(ctx()).resolve(slug)).id);
  }
  h.sandbox.control.setOAuthBehaviour({ username: 'demo' });
});
afterAll(async () => {
  await h.close();
  await database.drop();
});
beforeEach(async () => {
  // Each test starts with an untouched budget, Cal.com's limits off, and every token fresh.
  await database.owner.query('DELETE FROM calcom_shared_budget');
  h.sandbox.control.setRateLimit(null);
  h.intercept = undefined;
});

const app = (i = 0) => h.instances[i]!.app;
const ctx = (i = 0) => h.instances[i]!.ctx;
const id = (slug: string) => tenants.get(slug)!;

/** Our stored access tokens of these tenants run out `inMs` from our clock (Cal.com's too when `atCalcom`). */
async function expireTokens(slugs: string[], inMs = -60_000, atCalcom = true): Promise<void> {
  const at = new Date(h.clock.now().getTime() + inMs);
  await database.owner.query('UPDATE calcom_connections SET access_expires_at = $1 WHERE tenant_id = ANY($2)', [at, slugs.map(id)]);
  if (atCalcom) h.sandbox.control.expireAccessTokens();
}

/** Spends the whole token endpoint budget (as visitors would) so the next unit is refused. */
async function spendBudget(): Promise<void> {
  const budget = createSharedBudget(ctx());
  for (let i = 0; i < LIMIT; i++) expect((await budget.take('token_endpoint', 'visitor')).granted).toBe(true);
  expect((await budget.take('token_endpoint', 'visitor')).granted).toBe(false);
}

/** A widget session of the shop's page for a tenant. */
async function sessionFor(slug: string): Promise<string> {
  const config = await request(app()).get(`/v1/widget/${slug}/config`).set('Origin', SHOP);
  expect(config.status).toBe(200);
  const res = await request(app())
    .post(`/v1/widget/${slug}/sessions`)
    .set('Origin', SHOP)
    .send({ consent: { version: config.body.consent.version, purposes: ['booking'] }, context: { pageUrl: `${SHOP}/book`, referrer: '', utm: {} } });
  expect(res.status).toBe(201);
  return `Bearer ${res.body.token as string}`;
}

/** A free time of the tenant's event type (slots need no token at Cal.com). */
async function freeSlot(slug: string, session: string, index: number): Promise<string> {
  const start = weekdayAtUtc(new Date(), 6, 0);
  const query = { eventType: SANDBOX_DEMO_EVENT_SLUG, start: start.toISOString(), end: new Date(start.getTime() + 24 * 3600_000 - 1).toISOString(), timeZone: 'UTC' };
  const res = await request(app()).get(`/v1/widget/${slug}/slots`).query(query).set('Origin', SHOP).set('Authorization', session);
  expect(res.status).toBe(200);
  return res.body.days[0].slots[index].start as string;
}

/** A visitor books through our server (native mode): this needs the tenant's access token. */
function book(slug: string, session: string, start: string, key: string) {
  return request(app())
    .post(`/v1/widget/${slug}/bookings`)
    .set('Origin', SHOP)
    .set('Authorization', session)
    .set('Idempotency-Key', key)
    .send({ eventType: SANDBOX_DEMO_EVENT_SLUG, start, attendee: { name: 'Vera', email: 'vera@example.com', timeZone: 'UTC' } });
}

describe('one budget for every instance', () => {
  it('when two instances take from one budget at once, then together they get exactly its limit, and the window after has room again', async () => {
    const budgets = [createSharedBudget(ctx(0)), createSharedBudget(ctx(1))];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => budgets[i % 2]!.take('token_endpoint', 'visitor')));
    expect(results.filter((r) => r.granted)).toHaveLength(LIMIT);
    // The refused are told when there is room: when the slot of the first units stops counting.
    const refused = results.find((r) => !r.granted) as { granted: false; until: Date };
    const wait = refused.until.getTime() - h.clock.now().getTime();
    expect(wait).toBeGreaterThan(WINDOW_MS);
    expect(wait).toBeLessThanOrEqual(WINDOW_MS + WINDOW_MS / 6);
    h.clock.advance(wait);
    expect((await budgets[1]!.take('token_endpoint', 'visitor')).granted).toBe(true);
    // The other tracker has its own budget.
    expect((await budgets[0]!.take('platform_client', 'visitor')).granted).toBe(true);
  });

  it("when calls come at any times over five minutes, then no window of Cal.com's, wherever it starts, holds more than the limit, and a refused caller is told the moment the oldest counted slot leaves", async () => {
    const budgets = [createSharedBudget(ctx(0)), createSharedBudget(ctx(1))];
    const slotMs = WINDOW_MS / 6;
    // Start on a slot boundary so the expected times below are exact.
    h.clock.set(new Date(Math.ceil(h.clock.now().getTime() / slotMs) * slotMs));
    const t0 = h.clock.now().getTime();
    // A fixed pseudo-random walk (no wall clock): steps of 0–9 s, two instances taking in turn.
    let seed = 7;
    const granted: number[] = [];
    let firstRefusal: { at: number; until: number } | undefined;
    for (let i = 0; i < 80; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      h.clock.advance(seed % 9000);
      const r = await budgets[i % 2]!.take('token_endpoint', 'visitor');
      if (r.granted) granted.push(h.clock.now().getTime());
      else firstRefusal ??= { at: h.clock.now().getTime(), until: r.until.getTime() };
    }
    expect(h.clock.now().getTime() - t0).toBeGreaterThan(5 * WINDOW_MS);
    for (const [i, start] of granted.entries()) {
      const inWindow = granted.slice(i).filter((t) => t < start + WINDOW_MS).length;
      expect(inWindow).toBeLessThanOrEqual(LIMIT);
    }
    // Room comes back when the slot of the oldest call still counted is a window and a slot behind.
    const counted = granted.filter((t) => t <= firstRefusal!.at && t >= Math.floor((firstRefusal!.at - WINDOW_MS) / slotMs) * slotMs);
    expect(firstRefusal!.until).toBe(Math.floor(counted[0]! / slotMs) * slotMs + WINDOW_MS + slotMs);
    // Over five minutes the budget let through most of what Cal.com would have (≥ 4 per 70 s).
    expect(granted.length).toBeGreaterThanOrEqual(Math.floor((h.clock.now().getTime() - t0) / (WINDOW_MS + slotMs)) * LIMIT);
  });

  it('when background work takes from the budget, then it leaves the reserve to visitors', async () => {
    const budget = createSharedBudget(ctx());
    const background = await Promise.all(Array.from({ length: 4 }, () => budget.take('token_endpoint', 'background')));
    expect(background.filter((r) => r.granted)).toHaveLength(2);
    const visitors = await Promise.all(Array.from({ length: 4 }, () => budget.take('token_endpoint', 'visitor')));
    expect(visitors.filter((r) => r.granted)).toHaveLength(2);
  });

  it("when expired tokens of six tenants are refreshed on two instances at once, then Cal.com sees no more refreshes than the budget and the others are refused with calcom_refresh_budget_spent", async () => {
    const slugs = ['t0', 't1', 't2', 't3', 't4', 't5'];
    await expireTokens(slugs);
    const vaults = [createCalcom(ctx(0), createTenantsService(ctx(0))).vault, createCalcom(ctx(1), createTenantsService(ctx(1))).vault];
    const before = h.sandbox.control.stats().tokenRefreshes;
    const outcomes = await Promise.allSettled(slugs.map((slug, i) => vaults[i % 2]!.credentialsFor(id(slug))));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(LIMIT);
    const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string }] : []));
    expect(refusals.map((e) => e.code)).toEqual(['calcom_refresh_budget_spent', 'calcom_refresh_budget_spent']);
    expect(h.sandbox.control.stats().tokenRefreshes - before).toBe(LIMIT);
  });
});

describe('when the budget is spent', () => {
  it('when the shared budget is spent, then a reconcile pass is deferred and says until when, without calling Cal.com', async () => {
    await expireTokens(['t6']);
    await spendBudget();
    const calls: string[] = [];
    h.intercept = (method, url) => {
      calls.push(`${method} ${url.pathname}`);
      return undefined;
    };
    const res = await request(app()).post('/v1/admin/tenants/t6/reconcile').set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ checked: 0, created: 0 });
    const wait = Date.parse(res.body.deferredUntil as string) - h.clock.now().getTime();
    expect(wait).toBeGreaterThan(WINDOW_MS);
    expect(wait).toBeLessThanOrEqual(WINDOW_MS + WINDOW_MS / 6);
    expect(calls).toEqual([]);

    // The job form queues itself for that time.
    const calcom = createCalcom(ctx(), createTenantsService(ctx()));
    const job = await calcom.reconciliation.reconcileJob(id('t6'));
    const { rows } = await database.owner.query<{ run_at: Date }>("SELECT run_at FROM graphile_worker.jobs WHERE key = $1", [`calcom-reconcile:${id('t6')}`]);
    expect(rows[0]!.run_at.toISOString()).toBe(job!.deferredUntil);
    const metrics = await request(app()).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_calcom_reconcile_deferred_total\{reason="shared_budget"\} [1-9]/);
    await database.owner.query("DELETE FROM graphile_worker._private_jobs WHERE key LIKE 'calcom-reconcile:%'");
  });

  it('when a visitor needs a fresh token and the budget is spent, then 503 calcom_refresh_budget_spent with Retry-After, at once', async () => {
    const session = await sessionFor('t7');
    const start = await freeSlot('t7', session, 0);
    await expireTokens(['t7']);
    await spendBudget();
    const res = await book('t7', session, start, 'budget-spent-0001');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('calcom_refresh_budget_spent');
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(60);
    expect(retryAfter).toBeLessThanOrEqual(71);
  });

  it('when the budget is spent but the token in hand works a while longer, then the visitor is served with it', async () => {
    const session = await sessionFor('t5');
    const start = await freeSlot('t5', session, 1);
    // A token Cal.com takes (earlier tests ended every token at Cal.com): refreshed while the budget has room.
    await expireTokens(['t5'], -60_000, false);
    await createCalcom(ctx(), createTenantsService(ctx())).vault.credentialsFor(id('t5'));
    await database.owner.query('DELETE FROM calcom_shared_budget');
    // Inside the refresh margin (five minutes), not expired: Cal.com still takes it.
    await expireTokens(['t5'], 2 * 60_000, false);
    await spendBudget();
    const before = h.sandbox.control.stats().tokenRefreshes;
    const res = await book('t5', session, start, 'budget-spent-0002');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(h.sandbox.control.stats().tokenRefreshes).toBe(before);
  });
});

describe("Cal.com's headers correct the budget", () => {
  it('when someone else behind our address used most of its count, then our budget counts it after one answer and makes no call Cal.com would refuse', async () => {
    h.sandbox.control.setRateLimit({ apiKey: 1000, accessToken: 1000, oauthClient: 1000, other: LIMIT });
    // Another program on the same egress address asks the token endpoint three times.
    for (let i = 0; i < LIMIT - 1; i++) {
      await fetch(`${h.sandbox.apiUrl}/auth/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    }
    await expireTokens(['t0', 't1']);
    const vault = createCalcom(ctx(), createTenantsService(ctx())).vault;
    const before = h.sandbox.control.stats().tokenRequests;
    await vault.credentialsFor(id('t0'));
    // Cal.com said Remaining 0: the next refresh is refused here, before Cal.com sees it.
    await expect(vault.credentialsFor(id('t1'))).rejects.toBeInstanceOf(CalcomRefreshBudgetSpent);
    expect(h.sandbox.control.stats().tokenRequests - before).toBe(1);
  });

  it("when Cal.com refuses a refresh with 429, then the caller gets calcom_rate_limited and no instance calls again before the block's end", async () => {
    h.sandbox.control.setRateLimit({ apiKey: 1000, accessToken: 1000, oauthClient: 1000, other: 1 });
    await fetch(`${h.sandbox.apiUrl}/auth/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await expireTokens(['t2', 't3']);
    const first = createCalcom(ctx(0), createTenantsService(ctx(0))).vault;
    const second = createCalcom(ctx(1), createTenantsService(ctx(1))).vault;
    const err = await first.credentialsFor(id('t2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalcomRateLimited);
    expect((err as CalcomRateLimited).code).toBe('calcom_rate_limited');
    const before = h.sandbox.control.stats().tokenRequests;
    const blocked = await second.credentialsFor(id('t3')).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(CalcomRefreshBudgetSpent);
    expect((blocked as CalcomRefreshBudgetSpent).until.getTime() - h.clock.now().getTime()).toBeGreaterThan(55_000);
    expect(h.sandbox.control.stats().tokenRequests).toBe(before);
  });
});

describe('refreshing ahead, and the platform client', () => {
  it("when a token would come within the refresh margin before the tenant's next pass, then reconciliation refreshes it now and a visitor's call does not", async () => {
    // Five minutes of margin plus the fifteen-minute interval: a token with fifteen minutes left is refreshed by the pass.
    await expireTokens(['t4'], -60_000, false);
    const vault = createCalcom(ctx(), createTenantsService(ctx())).vault;
    await vault.credentialsFor(id('t4'));
    await expireTokens(['t4'], 15 * 60_000, false);
    const before = h.sandbox.control.stats().tokenRefreshes;
    await vault.credentialsFor(id('t4'), 'visitor');
    expect(h.sandbox.control.stats().tokenRefreshes).toBe(before);
    await vault.credentialsFor(id('t4'), 'background');
    expect(h.sandbox.control.stats().tokenRefreshes).toBe(before + 1);
  });

  it("when a managed user's token is refreshed, then it takes from the platform client's budget, which Cal.com's headers correct for others' calls", async () => {
    const created = await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'managed', name: 'managed', allowedOrigins: [] });
    expect(created.status).toBe(201);
    expect((await request(app()).post('/v1/admin/tenants/managed/calcom/managed-user').set(asAdmin).send({ timeZone: 'UTC' })).status).toBe(201);
    const managedId = (await createTenantsService(ctx()).resolve('managed')).id;
    await database.owner.query('DELETE FROM calcom_shared_budget');
    h.sandbox.control.setRateLimit({ apiKey: 1000, accessToken: 1000, oauthClient: LIMIT, other: 1000 });
    // Another program with our platform client id makes two calls.
    for (let i = 0; i < 2; i++) await fetch(`${h.sandbox.apiUrl}/oauth-clients/${h.config.calcom.platformClientId!}/users`, { headers: { 'x-cal-client-id': h.config.calcom.platformClientId! } });
    await database.owner.query('UPDATE calcom_connections SET access_expires_at = $1 WHERE tenant_id = $2', [new Date(h.clock.now().getTime() - 60_000), managedId]);
    await createCalcom(ctx(), createTenantsService(ctx())).vault.credentialsFor(managedId);
    const { rows } = await database.owner.query<{ tracker: string; spent: number }>('SELECT tracker, sum(spent)::int AS spent FROM calcom_shared_budget GROUP BY tracker');
    // Ours, plus the two Cal.com counted that we did not take.
    expect(rows).toEqual([{ tracker: 'platform_client', spent: 3 }]);
  });
});
