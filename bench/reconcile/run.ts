// npm run bench:reconcile — one reconciliation pass of an agency's tenants against the Cal.com sandbox
// with Cal.com's rate limits (issue 16, "Reconciliation at agency size").
//
// 1. Starts a throwaway PostgreSQL (scripts/lib.mjs), migrates it, starts the sandbox and Calbridge.
// 2. Connects BENCH_RECONCILE_TENANTS (default 1,000) tenants through the real OAuth flow, each to a
//    Cal.com account of its own (one account serves one tenant: decision 0034) on which
//    BENCH_RECONCILE_BOOKINGS (default 20) bookings were made first: each holds its own access token,
//    which is what Cal.com's throttler counts (apps/api/v2/src/lib/throttler-guard.ts).
//    Webhooks are registered after the bookings exist, so only reconciliation can bring them.
// 3. Time is compressed: the interval is BENCH_RECONCILE_INTERVAL_MINUTES (default 5, instead of 15)
//    and Cal.com's 60 s window and block are scaled by the same factor (5/15: 20 s); the limit per
//    window stays Cal.com's (500 per access token, 120 per address; BENCH_RECONCILE_LIMIT=<n> sets
//    one number for every token tracker instead; the address's is BENCH_RECONCILE_REFRESH_LIMIT), so the budget per interval is the real one. Our own
//    database work is not compressed: "worker time" below says what it needs of the real interval.
// 4. Plans the pass (enqueueAll, as the cron does) and runs BENCH_RECONCILE_WORKERS (default 2)
//    job workers of BENCH_RECONCILE_CONCURRENCY (default 2) each, as separate instances would, until
//    every tenant is done. BENCH_RECONCILE_PAGE (default 100, Calbridge's page) reads fewer per call.
// 5. BENCH_RECONCILE_EXPIRED=1: every tenant's access token has run out when the pass starts, so each
//    pass first refreshes at Cal.com's token endpoint, which counts by our address across tenants
//    (decision 0030). The instances share the budget in PostgreSQL: BENCH_RECONCILE_REFRESH_LIMIT
//    (default Cal.com's 120) per window (scaled like the rest), less the visitors' reserve.
// Prints time to finish against the interval, requests per token and window against the limit,
// 429s, deferrals, and how evenly the starts are spread. Figures are printed, not asserted.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TestDatabase } from '../../server/src/test-support/database.js';

const require = createRequire(new URL('../../server/package.json', import.meta.url));
// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- pg is the server package's dependency, resolved from there
const pg = require('pg') as typeof import('pg');

const { migrate } = await import('../../server/src/db/migrate.js');
const { createDb } = await import('../../server/src/db/db.js');
const { createContext } = await import('../../server/src/app.js');
const { systemClock } = await import('../../server/src/clock.js');
const { createLogger } = await import('../../server/src/logger.js');
const { startCalcomHarness, connectWithOAuth, seedCalcomUser } = await import('../../server/src/test-support/calcom.js');
const { SANDBOX_DEMO_EVENT_SLUG } = await import('../../test/calcom-sandbox/index.js');
const { weekdayAtUtc } = await import('../../test/calcom-sandbox/test-support.js');
const { asAdmin } = await import('../../server/src/test-support/app.js');
const { createCalcom } = await import('../../server/src/calcom/calcom.js');
const { createReconciliation, RECONCILE_TENANT_TASK } = await import('../../server/src/calcom/reconciliation.service.js');
const { createTenantsService } = await import('../../server/src/tenants/tenants.service.js');
const { startWorker } = await import('../../server/src/jobs/queue.js');
const { createMetrics } = await import('../../server/src/http/metrics.js');
const lib = (await import(new URL('../../scripts/lib.mjs', import.meta.url).href)) as {
  startThrowawayPostgres(): Promise<{ url: string; stop(): void }>;
};

const num = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const TENANTS = num('BENCH_RECONCILE_TENANTS', 1000);
const BOOKINGS = num('BENCH_RECONCILE_BOOKINGS', 20);
const INTERVAL_MINUTES = num('BENCH_RECONCILE_INTERVAL_MINUTES', 5);
const WORKERS = num('BENCH_RECONCILE_WORKERS', 2);
const CONCURRENCY = num('BENCH_RECONCILE_CONCURRENCY', 2);
const PAGE = num('BENCH_RECONCILE_PAGE', 100);
const LIMIT = process.env.BENCH_RECONCILE_LIMIT ? num('BENCH_RECONCILE_LIMIT', 500) : null;
const EXPIRED = process.env.BENCH_RECONCILE_EXPIRED === '1';
const REFRESH_LIMIT = num('BENCH_RECONCILE_REFRESH_LIMIT', 120);
const INTERVAL_MS = INTERVAL_MINUTES * 60_000;
/** Real interval 15 min, real window 60 s: the window shrinks as the interval does. */
const SCALE = INTERVAL_MS / (15 * 60_000);
const WINDOW_MS = Math.max(1000, Math.round(60_000 * SCALE));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const cluster = await lib.startThrowawayPostgres();
try {
  await migrate(cluster.url);
  const database = { ownerUrl: cluster.url } as TestDatabase;
  const h = await startCalcomHarness(database, {
    LOG_LEVEL: 'warn',
    CALBRIDGE_RECONCILE_INTERVAL_MINUTES: String(INTERVAL_MINUTES),
    // The shared budget's window scaled like Cal.com's (whole seconds), its limit the one the sandbox enforces.
    CALBRIDGE_CALCOM_RATE_WINDOW_SECONDS: String(Math.max(6, Math.round(WINDOW_MS / 1000))),
    CALBRIDGE_CALCOM_TOKEN_ENDPOINT_LIMIT: String(REFRESH_LIMIT),
  });
  const setupStarted = Date.now();

  /** A tenant's own Cal.com account and its bookings, made before the tenant's webhook exists. */
  async function seedAccount(slug: string): Promise<string> {
    const { username, apiKey } = seedCalcomUser(h, `${slug}-owner`);
    for (let i = 0; i < BOOKINGS; i++) {
      const res = await fetch(`${h.sandbox.apiUrl}/bookings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'cal-api-version': '2024-08-13', 'content-type': 'application/json' },
        body: JSON.stringify({
          start: weekdayAtUtc(new Date(), 7 + Math.floor(i / 8), 9 + (i % 8)).toISOString(),
          eventTypeSlug: SANDBOX_DEMO_EVENT_SLUG,
          username,
          attendee: { name: `Guest ${i}`, email: `guest${i}@example.com`, timeZone: 'UTC' },
        }),
      });
      if (res.status !== 201) throw new Error(`seeding booking ${i} of ${slug}: ${res.status} ${await res.text()}`);
    }
    return username;
  }
  const app = h.instances[0]!.app;
  const slugs = Array.from({ length: TENANTS }, (_, i) => `agency-${String(i).padStart(4, '0')}`);
  for (let i = 0; i < slugs.length; i += 8) {
    await Promise.all(
      slugs.slice(i, i + 8).map(async (slug) => {
        const created = await fetch(`${h.listening.url}/v1/admin/tenants`, {
          method: 'POST',
          headers: { ...asAdmin, 'content-type': 'application/json' },
          body: JSON.stringify({ slug, name: slug, allowedOrigins: [] }),
        });
        if (created.status !== 201) throw new Error(`tenant ${slug}: ${created.status}`);
        const { callback } = await connectWithOAuth(h, app, slug, { as: await seedAccount(slug) });
        if (callback.status !== 200) throw new Error(`connect ${slug}: ${callback.status}`);
      }),
    );
  }
  console.log(`\nreconcile: ${TENANTS} tenants connected (OAuth, one access token each), ${BOOKINGS} bookings each to read, set up in ${s(Date.now() - setupStarted)}`);

  // Cal.com's limits, time scaled with the interval.
  const byKind = LIMIT === null ? { apiKey: 120, accessToken: 500, oauthClient: 500 } : { apiKey: LIMIT, accessToken: LIMIT, oauthClient: LIMIT };
  h.sandbox.control.setRateLimit({ ...byKind, other: REFRESH_LIMIT }, { windowMs: WINDOW_MS, blockMs: WINDOW_MS });
  if (EXPIRED) {
    // Every token has run out, ours and Cal.com's: each pass must refresh first.
    const owner = new pg.Pool({ connectionString: cluster.url, max: 1 });
    await owner.query("UPDATE calcom_connections SET access_expires_at = now() - interval '1 minute'");
    await owner.end();
    h.sandbox.control.expireAccessTokens();
  }

  // What Calbridge asks of Cal.com during the pass: time, token (hashed), status, headers.
  const seen: Array<{ t: number; token: string; status: number; remaining: number; limit: number; refresh: boolean }> = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await h.fetch(input, init);
    const auth = new Headers(init?.headers).get('authorization') ?? 'none';
    seen.push({
      t: Date.now(),
      token: createHash('sha256').update(auth).digest('hex').slice(0, 12),
      status: res.status,
      remaining: Number(res.headers.get('x-ratelimit-remaining-default') ?? NaN),
      limit: Number(res.headers.get('x-ratelimit-limit-default') ?? NaN),
      refresh: new URL(input instanceof Request ? input.url : String(input)).pathname.endsWith('/auth/oauth2/token'),
    });
    return res;
  };

  // Workers as separate instances: each its own context, pool and worker, on the same database.
  const starts = new Map<string, number>();
  let busyMs = 0;
  const finishes = new Map<string, number>();
  let deferrals = 0;
  const instances = await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      const db = createDb({ connectionString: cluster.url, max: CONCURRENCY + 2 });
      const ctx = createContext({ config: h.config, db, fetch: recordingFetch, clock: systemClock, logger: createLogger({ level: 'warn' }), metrics: createMetrics() });
      const calcom = createCalcom(ctx, createTenantsService(ctx));
      const reconciliation = createReconciliation(ctx, { calcom: calcom.client, vault: calcom.vault, tenants: createTenantsService(ctx) }, { pageSize: PAGE });
      const worker = await startWorker({
        connectionString: cluster.url,
        concurrency: CONCURRENCY,
        pollIntervalMs: 250,
        logger: ctx.logger,
        handlers: {
          // As server/src/jobs/handlers.ts, with the start and end of each tenant's work recorded.
          [RECONCILE_TENANT_TASK]: async (payload) => {
            const tenantId = String(payload.tenantId);
            if (!starts.has(tenantId)) starts.set(tenantId, Date.now());
            const resumeAfter = typeof payload.resumeAfter === 'string' ? payload.resumeAfter : undefined;
            const began = Date.now();
            const r = await reconciliation.reconcileJob(tenantId, Number(payload.deferrals ?? 0) || 0, resumeAfter).finally(() => {
              busyMs += Date.now() - began;
            });
            if (r?.deferredUntil) deferrals += 1;
            else finishes.set(tenantId, Date.now());
          },
        },
      });
      return { db, calcom, worker, ctx };
    }),
  );

  const t0 = Date.now();
  const planned = await instances[0]!.calcom.reconciliation.enqueueAll();
  const owner = new pg.Pool({ connectionString: cluster.url, max: 1 });
  const plan = await owner.query<{ tenant_id: string; run_at: Date }>(
    `SELECT j.payload->>'tenantId' AS tenant_id, j.run_at FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = $1`,
    [RECONCILE_TENANT_TASK],
  );
  const plannedAt = new Map(plan.rows.map((r) => [r.tenant_id, r.run_at.getTime()]));

  // Until every tenant finished, or three intervals (then the figures say what was left).
  const deadline = t0 + 3 * INTERVAL_MS;
  while (finishes.size < planned && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 500));
  }
  const tEnd = Math.max(...finishes.values(), t0);
  const deferredBy = new Map<string, number>();
  for (const i of instances) {
    const metric = await i.ctx.metrics.registry.getSingleMetric('calbridge_calcom_reconcile_deferred_total')?.get();
    for (const v of metric?.values ?? []) deferredBy.set(String(v.labels.reason), (deferredBy.get(String(v.labels.reason)) ?? 0) + v.value);
  }
  for (const i of instances) {
    await i.worker.stop();
    await i.db.close();
  }
  await owner.end();

  // Requests per token and window, counted as the throttler does: a window starts at its first hit.
  const mostInOneWindow = (times: number[]) => {
    let most = 0;
    let start = -Infinity;
    let n = 0;
    for (const t of times.sort((a, b) => a - b)) {
      if (t >= start + WINDOW_MS) {
        start = t;
        n = 0;
      }
      n += 1;
      most = Math.max(most, n);
    }
    return most;
  };
  const byToken = new Map<string, number[]>();
  for (const r of seen) if (!r.refresh) (byToken.get(r.token) ?? byToken.set(r.token, []).get(r.token)!).push(r.t);
  let maxPerWindow = 0;
  for (const times of byToken.values()) maxPerWindow = Math.max(maxPerWindow, mostInOneWindow(times));
  // Token refreshes: one tracker (our address) for every tenant and instance.
  const refreshes = seen.filter((r) => r.refresh);
  // Also the worst 60-s-equivalent stretch wherever it starts (a window of Cal.com's may start at any hit).
  const refreshTimes = refreshes.map((r) => r.t).sort((a, b) => a - b);
  let slidingMost = 0;
  for (let i = 0, j = 0; j < refreshTimes.length; j++) {
    while (refreshTimes[j]! - refreshTimes[i]! >= WINDOW_MS) i++;
    slidingMost = Math.max(slidingMost, j - i + 1);
  }
  const refused = seen.filter((r) => r.status === 429).length;
  const minRemaining = Math.min(...seen.map((r) => r.remaining).filter((n) => Number.isFinite(n)));
  const limitSeen = Math.max(...seen.map((r) => r.limit).filter((n) => Number.isFinite(n)));
  // Requests per second over the pass, all tokens: the load on Cal.com (and on us) over time.
  const perTenth = Array.from({ length: 10 }, () => 0);
  for (const r of seen) perTenth[Math.min(9, Math.floor(((r.t - t0) / INTERVAL_MS) * 10))]! += r.t >= t0 ? 1 : 0;
  const startTimes = [...starts.values()].map((t) => t - t0).sort((a, b) => a - b);
  const startsPerTenth = Array.from({ length: 10 }, () => 0);
  for (const t of startTimes) startsPerTenth[Math.min(9, Math.floor((t / INTERVAL_MS) * 10))]! += 1;
  const gaps = startTimes.slice(1).map((t, i) => t - startTimes[i]!).sort((a, b) => a - b);
  const lags = [...starts.entries()].filter(([id]) => plannedAt.has(id)).map(([id, t]) => t - plannedAt.get(id)!).sort((a, b) => a - b);
  const work = [...finishes.entries()].map(([id, t]) => t - (starts.get(id) ?? t)).sort((a, b) => a - b);

  console.log(`time compressed ×${(1 / SCALE).toFixed(1)}: interval ${s(INTERVAL_MS)} (15 min real), Cal.com window and block ${s(WINDOW_MS)} (60 s real)`);
  console.log(`limit per token and window: ${LIMIT ?? "Cal.com's (500 per access token)"}; reserve for visitors ${h.config.reconcile.reservePercent} %; page ${PAGE}; ${WORKERS} workers × ${CONCURRENCY}`);
  console.log(`\nfinished: ${finishes.size}/${planned} tenants in ${s(tEnd - t0)} = ${((tEnd - t0) / INTERVAL_MS * 100).toFixed(0)} % of the interval`);
  console.log(`requests to Cal.com: ${seen.length}; most by one token in one window ${maxPerWindow} (limit ${Number.isFinite(limitSeen) ? limitSeen : 'none'}); lowest Remaining seen ${Number.isFinite(minRemaining) ? minRemaining : 'n/a'}`);
  console.log(`429 answers: ${refused}; passes put off to a reset: ${deferrals} (${[...deferredBy].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`);
  console.log(
    `token refreshes at Cal.com (tracked by our address, all tenants and instances): ${refreshes.length}; most in one window from a first hit ${mostInOneWindow(refreshes.map((r) => r.t))}, in any window-long stretch ${slidingMost} (limit ${REFRESH_LIMIT}, background cap ${REFRESH_LIMIT - Math.floor((REFRESH_LIMIT * h.config.sharedLimits.reservePercent) / 100)}); 429s ${refreshes.filter((r) => r.status === 429).length}`,
  );
  console.log(`requests per tenth of the interval: ${perTenth.join(' ')}`);
  console.log(`starts per tenth of the interval:   ${startsPerTenth.join(' ')}`);
  console.log(`gap between starts: ideal ${s((INTERVAL_MS * 0.8) / planned)}; p50 ${s(percentile(gaps, 50))}, p99 ${s(percentile(gaps, 99))}, max ${s(gaps.at(-1) ?? 0)}`);
  console.log(`start lag behind plan: p50 ${s(percentile(lags, 50))}, p99 ${s(percentile(lags, 99))}, max ${s(lags.at(-1) ?? 0)}`);
  const slots = WORKERS * CONCURRENCY;
  console.log(`worker time: ${s(busyMs)} over ${slots} job slots = ${s(busyMs / slots)} each, ${((busyMs / slots / (15 * 60_000)) * 100).toFixed(0)} % of a real 15-minute interval`);
  console.log(`one tenant's work (start to finish): p50 ${s(percentile(work, 50))}, p99 ${s(percentile(work, 99))}, max ${s(work.at(-1) ?? 0)}`);
  await h.close();
} finally {
  cluster.stop();
}
