// npm run bench:scale — admin reads, GDPR answers and the nightly jobs as the database grows.
//
// 1. Starts a throwaway PostgreSQL (scripts/lib.mjs) and migrates it.
// 2. Seeds BENCH_SCALE_TENANTS (default 1,000) tenants through SQL (server/src/test-support/
//    scale-seed.ts): per booking two events, two raw deliveries and their log lines, a consent
//    receipt, an observed booking, a CRM message and its attempt; a lead per two bookings.
// 3. At each size of BENCH_SCALE_SIZES (bookings in all; default 10000,100000,1000000; the
//    million takes minutes to seed) it grows the same database to that size, VACUUM ANALYZEs,
//    then runs every operation of server/src/test-support/scale-operations.ts BENCH_SCALE_RUNS
//    times (default 40) over tenants spread across the directory, and prints p50/p99 of each
//    and the indexes its statements' plans use.
// 4. Prints p99 at the largest size against the smallest. Goals (issue 16): every read p99 ≤ 20 ms
//    at 1M and within 2× of its 10k figure; erasure of one person ≤ 1 s. Printed, not asserted.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../server/package.json', import.meta.url));
// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- pg is the server package's dependency, resolved from there
const pg = require('pg') as typeof import('pg');
const { migrate } = await import('../../server/src/db/migrate.js');
const { createDb } = await import('../../server/src/db/db.js');
const { createContext } = await import('../../server/src/app.js');
const { parseConfig } = await import('../../server/src/config.js');
const { systemClock } = await import('../../server/src/clock.js');
const { createLogger } = await import('../../server/src/logger.js');
const { seedScaleTenants, seedScaleBookings } = await import('../../server/src/test-support/scale-seed.js');
const { startScaleHarness } = await import('../../server/src/test-support/scale-operations.js');
const { explainingDb } = await import('../../server/src/test-support/explain.js');
type CapturedPlan = Parameters<typeof explainingDb>[1][number];
const lib = (await import(new URL('../../scripts/lib.mjs', import.meta.url).href)) as {
  startThrowawayPostgres(): Promise<{ url: string; stop(): void }>;
};

const TENANTS = Math.max(1, Number(process.env.BENCH_SCALE_TENANTS ?? 1000));
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '10000,100000,1000000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isFinite(n) && n > 0)
  .sort((a, b) => a - b);
const RUNS = Math.max(2, Number(process.env.BENCH_SCALE_RUNS ?? 40));
const SAMPLE = Math.min(TENANTS, 20);
const ADMIN = `bench_${randomBytes(24).toString('base64url')}`;
/** Booking indexes seeded per statement: bounds one statement's memory and time. */
const CHUNK = Math.max(1, Math.floor(50_000 / TENANTS));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)).padStart(6);

const cluster = await lib.startThrowawayPostgres();
const owner = new pg.Pool({ connectionString: cluster.url, max: 2 });
const results = new Map<string, Map<number, { p50: number; p99: number }>>();
try {
  await migrate(cluster.url);
  await seedScaleTenants(owner, TENANTS);
  const tenantRows = (await owner.query<{ n: number; id: string }>('SELECT n, id FROM scale_tenants ORDER BY n')).rows;
  // Tenants spread over the directory (first, last and between), the same ones at every size.
  const sample = Array.from({ length: SAMPLE }, (_, j) => tenantRows[Math.floor((j * (tenantRows.length - 1)) / Math.max(1, SAMPLE - 1))]!);

  const config = parseConfig({
    DATABASE_URL: cluster.url,
    CALBRIDGE_ADMIN_TOKEN: ADMIN,
    CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
  });
  const logger = createLogger({ level: 'warn' });
  const db = createDb({ connectionString: cluster.url, max: 4 });
  const harness = await startScaleHarness(createContext({ config, db, fetch: globalThis.fetch, clock: systemClock, logger }), ADMIN);
  const plans: CapturedPlan[] = [];
  const explaining = await startScaleHarness(createContext({ config, db: explainingDb(db, plans), fetch: globalThis.fetch, clock: systemClock, logger }), ADMIN);

  console.log(`\nscale: ${TENANTS} tenants, sizes ${SIZES.join(', ')} bookings, ${RUNS} runs per operation over ${SAMPLE} tenants, PostgreSQL at ${cluster.url.replace(/\/\/.*@/, '//…@')}`);
  let seeded = 0;
  let k = 0;
  for (const size of SIZES) {
    const perTenant = Math.max(4, Math.floor(size / TENANTS));
    const started = Date.now();
    for (let from = seeded; from < perTenant; from += CHUNK) await seedScaleBookings(owner, from, Math.min(perTenant, from + CHUNK));
    seeded = Math.max(seeded, perTenant);
    await owner.query('VACUUM ANALYZE');
    const bytes = (await owner.query<{ size: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS size')).rows[0]!.size;
    console.log(`\n${(seeded * TENANTS).toLocaleString('en')} bookings (${seeded} per tenant), database ${bytes}, seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`${'operation'.padEnd(42)}    p50 ms    p99 ms   indexes used`);
    const targets = sample.map((t) => ({ n: t.n, id: t.id, bookings: seeded }));
    for (const [o, op] of harness.operations.entries()) {
      // Warm-up, untimed: caches, and the first retention sweep's catching up.
      await op.run(targets[0]!, k++);
      const times: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const t0 = process.hrtime.bigint();
        await op.run(targets[r % targets.length]!, k++);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      times.sort((a, b) => a - b);
      const p = { p50: percentile(times, 50), p99: percentile(times, 99) };
      if (!results.has(op.name)) results.set(op.name, new Map());
      results.get(op.name)!.set(size, p);
      plans.length = 0;
      await explaining.operations[o]!.run(targets[1 % targets.length]!, k++);
      const used = [...new Set(plans.flatMap((x) => JSON.stringify(x.plan).match(/"Index Name":"([a-z0-9_]+)"/g) ?? []).map((m) => m.slice(14, -1)))];
      const seq = [...new Set(plans.flatMap((x) => JSON.stringify(x.plan).match(/"Node Type":"Seq Scan"[^}]*?"Relation Name":"([a-z_]+)"/g) ?? []).map((m) => m.replace(/.*"Relation Name":"/, '').slice(0, -1)))];
      console.log(`${op.name.padEnd(42)} ${fmt(p.p50)}    ${fmt(p.p99)}   ${used.sort().join(', ')}${seq.length ? `; seq: ${seq.join(', ')}` : ''}`);
    }
  }

  if (SIZES.length > 1) {
    const small = SIZES[0]!;
    const large = SIZES.at(-1)!;
    console.log(`\np99 at ${large.toLocaleString('en')} against ${small.toLocaleString('en')} bookings:`);
    for (const [name, bySize] of results) {
      const a = bySize.get(small)!.p99;
      const b = bySize.get(large)!.p99;
      console.log(`${name.padEnd(42)} ${fmt(a)} → ${fmt(b)} ms   ×${(b / a).toFixed(2)}`);
    }
  }
  await explaining.close();
  await harness.close();
  await db.close();
} finally {
  await owner.end().catch(() => undefined);
  cluster.stop();
}
