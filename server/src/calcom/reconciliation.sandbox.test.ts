import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_EVENT_SLUG } from '../../../test/calcom-sandbox/index.js';
import { weekdayAtUtc } from '../../../test/calcom-sandbox/test-support.js';
import { enqueue, startWorker } from '../jobs/queue.js';
import { jobHandlers } from '../jobs/handlers.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { asAdmin, asMetrics } from '../test-support/app.js';
import { connectWithOAuth, seedCalcomUser, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { createCalcom } from './calcom.js';
import { createReconciliation, RECONCILE_TENANT_TASK } from './reconciliation.service.js';

// Reconciliation at agency size (issue 16): a pass spread over the interval, and Cal.com's rate-limit
// headers obeyed. The real server, PostgreSQL and the sandbox, whose throttler behaves as Cal.com's
// (apps/api/v2/src/lib/throttler-guard.ts): per access token, Remaining/Reset headers, a 60 s block.

let database: TestDatabase;
let h: CalcomHarness;
const INTERVAL_MS = 15 * 60_000;

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database, { LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await h.close();
  await database.drop();
});

const app = () => h.instances[0]!.app;
const ctx = () => h.instances[0]!.ctx;

async function createTenant(slug: string): Promise<string> {
  const res = await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [] });
  expect(res.status).toBe(201);
  return (await createTenantsService(ctx()).resolve(slug)).id;
}

interface QueuedJob {
  run_at: Date;
  payload: { tenantId: string; deferrals?: number; resumeAfter?: string };
  queue_name: string | null;
}

async function queuedFor(tenantId: string): Promise<QueuedJob[]> {
  const { rows } = await database.owner.query<QueuedJob>(
    `SELECT j.run_at, j.payload, q.queue_name FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
      WHERE t.identifier = 'calcom.reconcile.tenant' AND j.key = $1`,
    [`calcom-reconcile:${tenantId}`],
  );
  return rows;
}

async function storedUids(slug: string): Promise<string[]> {
  const res = await request(app()).get(`/v1/admin/tenants/${slug}/bookings?limit=100`).set(asAdmin);
  expect(res.status).toBe(200);
  return (res.body.data as Array<{ uid: string }>).map((b) => b.uid).sort();
}

/** Reconciliation as the job runs it, reading Cal.com one booking per page so that a small limit is felt. */
const onePerPage = () => {
  const calcom = createCalcom(ctx(), createTenantsService(ctx()));
  return createReconciliation(ctx(), { calcom: calcom.client, vault: calcom.vault, tenants: createTenantsService(ctx()) }, { pageSize: 1 });
};

/** Counts our calls to Cal.com's booking list (the sandbox still answers them). */
function countListCalls(): { readonly n: number; stop(): void } {
  let n = 0;
  h.intercept = (method, url) => {
    if (method === 'GET' && url.pathname === '/v2/bookings') n += 1;
    return undefined;
  };
  return {
    get n() {
      return n;
    },
    stop: () => {
      h.intercept = undefined;
    },
  };
}

/** Moves Cal.com's clock and ours together, as time passing. */
function pass(ms: number): void {
  h.sandbox.control.advanceTime(ms);
  h.clock.advance(ms);
}

describe('a reconciliation pass is spread over the interval', () => {
  it('when 50 tenants are reconciled, then their jobs start evenly spread over the interval, once each, however many instances plan the pass', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await createTenant(`spread-${String(i).padStart(2, '0')}`));
    const planned = h.clock.now().getTime();

    expect(await createCalcom(ctx(), createTenantsService(ctx())).reconciliation.enqueueAll()).toBe(50);
    // A second instance planning the same pass (e.g. a cron tick seen twice) replaces, never adds.
    const second = h.addInstance();
    expect(await createCalcom(second.ctx, createTenantsService(second.ctx)).reconciliation.enqueueAll()).toBe(50);

    const { rows } = await database.owner.query<{ key: string; run_at: Date; queue_name: string }>(
      "SELECT key, run_at, queue_name FROM graphile_worker.jobs WHERE task_identifier = 'calcom.reconcile.tenant' ORDER BY run_at",
    );
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((r) => r.key))).toEqual(new Set(ids.map((id) => `calcom-reconcile:${id}`)));
    // Each tenant in its own queue: two passes of one tenant never run at once.
    expect(rows.every((r) => r.queue_name === r.key)).toBe(true);
    const offsets = rows.map((r) => r.run_at.getTime() - planned);
    expect(offsets[0]).toBe(0);
    // Evenly: every gap is the same (to the millisecond of rounding), and the last start leaves a fifth of the interval.
    const step = (INTERVAL_MS * 0.8) / 50;
    const gaps = offsets.slice(1).map((o, i) => o - offsets[i]!);
    for (const gap of gaps) expect(Math.abs(gap - step)).toBeLessThanOrEqual(1);
    expect(offsets.at(-1)!).toBeLessThan(INTERVAL_MS * 0.8);

    await database.owner.query("DELETE FROM graphile_worker._private_jobs WHERE key LIKE 'calcom-reconcile:%'");
  });
});

describe("Cal.com's rate limit is obeyed", () => {
  /** Per tenant, the uids of the bookings on its Cal.com account that it must end up with. */
  const bookingUids = new Map<string, string[]>();

  beforeAll(async () => {
    // Each tenant on its own Cal.com account: one account serves one tenant (decision 0034).
    const owners = new Map<string, { username: string; apiKey: string }>();
    for (const slug of ['lean', 'spent', 'good', 'broken']) {
      await createTenant(slug);
      owners.set(slug, seedCalcomUser(h, `${slug}-owner`));
      expect((await connectWithOAuth(h, app(), slug, { as: `${slug}-owner` })).callback.status).toBe(200);
    }
    // Five bookings on each account that our webhooks never hear of: only reconciliation can bring them.
    h.sandbox.control.setFaults({ drop: true });
    for (const slug of ['lean', 'spent', 'good']) {
      const { username, apiKey } = owners.get(slug)!;
      const uids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${h.sandbox.apiUrl}/bookings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'cal-api-version': '2024-08-13', 'content-type': 'application/json' },
          body: JSON.stringify({
            start: weekdayAtUtc(new Date(), 8, 10 + i).toISOString(),
            eventTypeSlug: SANDBOX_DEMO_EVENT_SLUG,
            username,
            attendee: { name: `Guest ${i}`, email: `guest${i}@example.com`, timeZone: 'UTC' },
          }),
        });
        expect(res.status).toBe(201);
        uids.push(((await res.json()) as { data: { uid: string } }).data.uid);
      }
      bookingUids.set(slug, uids.sort());
    }
    await h.sandbox.control.flush();
    h.sandbox.control.resetFaults();
  });

  it('when Cal.com says the budget is spent (Remaining 0), then no further call is made before the reset and the work finishes after it', async () => {
    const tenantId = (await createTenantsService(ctx()).resolve('lean')).id;
    // Three calls per 60 s per token; the default reserve (20 % of 3, rounded down) is none.
    h.sandbox.control.setRateLimit(3);
    const reconciliation = onePerPage();
    const calls = countListCalls();
    try {
      const first = await reconciliation.reconcileJob(tenantId);
      expect(calls.n).toBe(3);
      expect(first).toMatchObject({ checked: 3, created: 3 });
      expect(first?.deferredUntil).toBeDefined();
      // Put off to after Cal.com's reset (60 s window, rounded up, plus a second), in the queue, not in a waiting worker.
      const [queued] = await queuedFor(tenantId);
      expect(queued!.run_at.toISOString()).toBe(first!.deferredUntil);
      const wait = queued!.run_at.getTime() - h.clock.now().getTime();
      expect(wait).toBeGreaterThan(55_000);
      expect(wait).toBeLessThanOrEqual(62_000);
      expect(queued!.payload).toMatchObject({ tenantId, deferrals: 1 });
      expect(await storedUids('lean')).toHaveLength(3);

      // The job comes due after the reset: it goes on from where it stopped and finishes.
      pass(wait);
      const rest = await reconciliation.reconcileJob(tenantId, queued!.payload.deferrals, queued!.payload.resumeAfter);
      expect(rest?.deferredUntil).toBeUndefined();
      expect(calls.n).toBe(6);
      expect(await storedUids('lean')).toEqual(bookingUids.get('lean'));
    } finally {
      calls.stop();
      h.sandbox.control.setRateLimit(null);
    }
    const metrics = await request(app()).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_calcom_reconcile_deferred_total\{reason="budget"\} 1/);
    // Never called into a 429.
    expect(metrics.text).not.toMatch(/calbridge_calcom_reconcile_deferred_total\{reason="refused"\}/);
    await database.owner.query("DELETE FROM graphile_worker._private_jobs WHERE key LIKE 'calcom-reconcile:%'");
  });

  it("when Cal.com answers 429 (visitors' calls spent the token's budget), then the tenant's work is retried after the reset and nothing is lost", async () => {
    const tenantId = (await createTenantsService(ctx()).resolve('spent')).id;
    h.sandbox.control.setRateLimit(3);
    const reconciliation = onePerPage();
    try {
      // Other calls on the same token (here the webhook sync) use the budget until Cal.com refuses them.
      let refused = false;
      for (let i = 0; i < 10 && !refused; i++) {
        const res = await request(app()).post('/v1/admin/tenants/spent/calcom/webhook').set(asAdmin);
        refused = res.status === 503 && res.body.code === 'calcom_rate_limited';
      }
      expect(refused).toBe(true);

      const first = await reconciliation.reconcileJob(tenantId);
      expect(first).toMatchObject({ checked: 0, created: 0 });
      const [queued] = await queuedFor(tenantId);
      expect(queued!.run_at.toISOString()).toBe(first!.deferredUntil);
      expect(queued!.run_at.getTime() - h.clock.now().getTime()).toBeGreaterThan(55_000);

      // Due after the block; at three calls a window it may be put off again, each time at the next reset.
      let job = queued!;
      let runs = 0;
      for (;;) {
        pass(job.run_at.getTime() - h.clock.now().getTime());
        const r = await reconciliation.reconcileJob(tenantId, job.payload.deferrals, job.payload.resumeAfter);
        runs += 1;
        if (!r?.deferredUntil) break;
        expect(runs).toBeLessThan(5);
        job = (await queuedFor(tenantId))[0]!;
      }
      expect(await storedUids('spent')).toEqual(bookingUids.get('spent'));
    } finally {
      h.sandbox.control.setRateLimit(null);
    }
    const metrics = await request(app()).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_calcom_reconcile_deferred_total\{reason="refused"\} 1/);
    const logs = h.instances[0]!.logLines.join('\n');
    expect(logs).toContain('reconciliation stopped at Cal.com rate limit');
    for (const b of ['guest0@example.com', 'Guest 0']) expect(logs).not.toContain(b);
    await database.owner.query("DELETE FROM graphile_worker._private_jobs WHERE key LIKE 'calcom-reconcile:%'");
  });

  it("when one tenant's reconciliation fails, then the others' still run to the end", async () => {
    const tenants = createTenantsService(ctx());
    const good = (await tenants.resolve('good')).id;
    const broken = (await tenants.resolve('broken')).id;
    // Tokens that no longer unseal: every attempt of this tenant fails.
    await database.owner.query("UPDATE calcom_connections SET tokens_ciphertext = 'v1.not-a-sealed-box' WHERE tenant_id = $1", [broken]);
    for (const id of [broken, good]) await ctx().db.withTenant(id, (tx) => enqueue(tx, RECONCILE_TENANT_TASK, { tenantId: id }, { maxAttempts: 1 }));
    const failedReconciles = `SELECT count(*)::int AS n FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
                                WHERE t.identifier = 'calcom.reconcile.tenant' AND j.last_error IS NOT NULL AND j.payload->>'tenantId' = $1`;
    const worker = await startWorker({ connectionString: database.ownerUrl, handlers: jobHandlers(ctx()), logger: ctx().logger, pollIntervalMs: 50 });
    try {
      await expect.poll(async () => (await storedUids('good')).length, { timeout: 15_000 }).toBe(bookingUids.get('good')!.length);
      await expect
        .poll(async () => (await database.owner.query(failedReconciles, [broken])).rows[0].n, { timeout: 15_000 })
        .toBe(1);
    } finally {
      await worker.stop();
    }
    expect(await storedUids('good')).toEqual(bookingUids.get('good'));
  });
});
