// npm run bench:scale — admin reads, GDPR answers and the nightly jobs as the database grows.
//
// 1. Starts a throwaway PostgreSQL (scripts/lib.mjs) and migrates it.
// 2. Seeds BENCH_SCALE_TENANTS (default 1,000) tenants through SQL (server/src/test-support/
//    scale-seed.ts): per booking two events, two raw deliveries and their log lines, a consent
//    receipt, an observed booking, a CRM message and its attempt; a lead per two bookings.
// 3. At each size of BENCH_SCALE_SIZES (bookings in all; default 10000,100000,1000000; the
//    million takes minutes to seed) it grows the same database to that size, then settles it
//    the way a deployment's data is settled and a bulk load's is not: VACUUM (ANALYZE) (the
//    visibility map and hint bits a freshly loaded table lacks, the planner's statistics) and
//    CHECKPOINT (the load's dirty pages written out before timing, not during it). It then warms
//    up (every operation once for every sampled tenant, untimed) and times BENCH_SCALE_RUNS rounds
//    (default 1,000) of every operation in turn, round r on sampled tenant r mod 20, so a burst of
//    load from a neighbour lands on all operations alike rather than on one's tail. p99 of 1,000 is
//    the tenth slowest run: with 200 it was the second, and one burst of the shared machine's noise
//    (a garbage collection, another process) decided it from run to run.
// 4. The admin API is the real app in a process of its own (bench/scale/server.ts: createApp with
//    its change feed), as a deployment runs it. Beside the client's p50/p99 (HTTP included; on a
//    shared machine they carry its noise) it prints the app's (from the request's arrival to its
//    response's end, in the server process) and both processes' garbage-collection pauses, then
//    the database's own time: each operation once per sampled tenant with every statement
//    under EXPLAIN (ANALYZE, BUFFERS), the sum of the statements' execution times, median and
//    max; and the indexes the plans use. The load average is printed with each size.
// 5. Prints p99 at the largest size against the smallest. Goals (issue 16): every read p99 ≤ 20 ms
//    at 1M and within 2× of its 10k figure; erasure of one person ≤ 1 s. Printed, not asserted.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { PerformanceObserver } from 'node:perf_hooks';
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
  startThrowawayPostgres(opts?: { settings?: string[] }): Promise<{ url: string; stop(): void }>;
};

const TENANTS = Math.max(1, Number(process.env.BENCH_SCALE_TENANTS ?? 1000));
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '10000,100000,1000000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isFinite(n) && n > 0)
  .sort((a, b) => a - b);
const RUNS = Math.max(2, Number(process.env.BENCH_SCALE_RUNS ?? 1000));
const SAMPLE = Math.min(TENANTS, 20);
/** BENCH_PG_STATEMENTS=1: PostgreSQL with pg_stat_statements, and each size's slowest statements printed. */
const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';
const ADMIN = `bench_${randomBytes(24).toString('base64url')}`;
const KEYS = `k1:${randomBytes(32).toString('base64')}`;
/** Booking indexes seeded per statement: bounds one statement's memory and time. */
const CHUNK = Math.max(1, Math.floor(50_000 / TENANTS));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)).padStart(6);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

const cluster = await lib.startThrowawayPostgres(
  PG_STATEMENTS ? { settings: ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'pg_stat_statements.track_planning=on'] } : {},
);
const owner = new pg.Pool({ connectionString: cluster.url, max: 2 });
let server: ChildProcess | undefined;
const results = new Map<string, Map<number, { p50: number; p99: number; server: number }>>();
try {
  await migrate(cluster.url);
  if (PG_STATEMENTS) await owner.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await seedScaleTenants(owner, TENANTS);
  const tenantRows = (await owner.query<{ n: number; id: string }>('SELECT n, id FROM scale_tenants ORDER BY n')).rows;
  // Tenants spread over the directory (first, last and between), the same ones at every size.
  const sample = Array.from({ length: SAMPLE }, (_, j) => tenantRows[Math.floor((j * (tenantRows.length - 1)) / Math.max(1, SAMPLE - 1))]!);

  const config = parseConfig({
    DATABASE_URL: cluster.url,
    CALBRIDGE_ADMIN_TOKEN: ADMIN,
    CALBRIDGE_ENCRYPTION_KEYS: KEYS,
    LOG_LEVEL: 'warn',
  });
  const logger = createLogger({ level: 'warn' });
  const db = createDb({ connectionString: cluster.url, max: 4 });
  // The app the HTTP reads reach runs as a deployment's does: a process of its own (bench/scale/server.ts).
  server = fork(new URL('./server.ts', import.meta.url).pathname, [], {
    env: {
      ...process.env,
      DATABASE_URL: cluster.url,
      CALBRIDGE_ADMIN_TOKEN: ADMIN,
      CALBRIDGE_ENCRYPTION_KEYS: KEYS,
      LOG_LEVEL: 'warn',
    },
    // BENCH_CPU_PROFILE=<dir> writes a CPU profile of the server process.
    // BENCH_SERVER_NODE_OPTIONS: extra V8/Node flags for the server process only (e.g. to try a GC setting).
    execArgv: [
      ...process.execArgv,
      ...(process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : []),
      ...(process.env.BENCH_SERVER_NODE_OPTIONS?.split(/\s+/).filter(Boolean) ?? []),
    ],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [{ port }] = (await Promise.race([once(server, 'message'), once(server, 'exit').then(() => Promise.reject(new Error('bench/scale/server.ts exited')))])) as [{ port: number }];
  const child = server;
  /** The server process's request time and garbage-collection pauses since the last ask. */
  const takeServerSide = async (): Promise<{ appMs: number; gcMs: number[] }> => {
    const answer = once(child, 'message');
    child.send({ take: true });
    return (await answer)[0] as { appMs: number; gcMs: number[] };
  };
  const harness = await startScaleHarness(createContext({ config, db, fetch: globalThis.fetch, clock: systemClock, logger }), ADMIN, `http://127.0.0.1:${port}`);
  const plans: CapturedPlan[] = [];
  const explaining = await startScaleHarness(
    createContext({ config, db: explainingDb(db, plans, { analyze: true }), fetch: globalThis.fetch, clock: systemClock, logger }),
    ADMIN,
  );

  console.log(`\nscale: ${TENANTS} tenants, sizes ${SIZES.join(', ')} bookings, ${RUNS} timed rounds of every operation over ${SAMPLE} tenants after a warm-up, PostgreSQL at ${cluster.url.replace(/\/\/.*@/, '//…@')}`);
  let seeded = 0;
  let k = 0;
  for (const size of SIZES) {
    const perTenant = Math.max(4, Math.floor(size / TENANTS));
    const started = Date.now();
    for (let from = seeded; from < perTenant; from += CHUNK) await seedScaleBookings(owner, from, Math.min(perTenant, from + CHUNK));
    seeded = Math.max(seeded, perTenant);
    const seededIn = (Date.now() - started) / 1000;
    const settling = Date.now();
    await owner.query('VACUUM (ANALYZE)');
    await owner.query('CHECKPOINT');
    const bytes = (await owner.query<{ size: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS size')).rows[0]!.size;
    console.log(
      `\n${(seeded * TENANTS).toLocaleString('en')} bookings (${seeded} per tenant), database ${bytes}, seeded in ${seededIn.toFixed(1)} s, ` +
        `VACUUM (ANALYZE) + CHECKPOINT in ${((Date.now() - settling) / 1000).toFixed(1)} s; load average ${load()}`,
    );
    const targets = sample.map((t) => ({ n: t.n, id: t.id, bookings: seeded }));
    const ops = harness.operations;
    // Warm-up, untimed: every operation for every sampled tenant (caches; the first retention sweep's catching up).
    for (const t of targets) for (const op of ops) await op.run(t, k++);
    const times = ops.map(() => [] as number[]);
    const appTimes = ops.map(() => [] as number[]);
    if (PG_STATEMENTS) await owner.query('SELECT pg_stat_statements_reset()');
    await takeServerSide();
    // Both processes pause for garbage collection; printed so a tail can be told apart from the database's.
    const gc: number[] = [];
    const serverGc: number[] = [];
    const gcObserver = new PerformanceObserver((list) => gc.push(...list.getEntries().map((e) => e.duration)));
    gcObserver.observe({ entryTypes: ['gc'] });
    for (let r = 0; r < RUNS; r++) {
      const t = targets[r % targets.length]!;
      for (const [o, op] of ops.entries()) {
        const t0 = process.hrtime.bigint();
        await op.run(t, k++);
        times[o]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const side = await takeServerSide();
        appTimes[o]!.push(side.appMs);
        serverGc.push(...side.gcMs);
      }
    }
    if (PG_STATEMENTS) {
      // The statements whose slowest run was slowest: planning and execution apart, so a tail inside
      // PostgreSQL shows which side it is on.
      const r = await owner.query<{ query: string; calls: string; max_exec_time: number; mean_exec_time: number; max_plan_time: number; mean_plan_time: number }>(
        `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls, max_exec_time, mean_exec_time, max_plan_time, mean_plan_time
           FROM pg_stat_statements WHERE toplevel AND calls >= ${RUNS} ORDER BY max_exec_time + max_plan_time DESC LIMIT 15`,
      );
      console.log('PostgreSQL statements run at least once per round, by their slowest run (ms: exec mean/max, plan mean/max):');
      for (const x of r.rows)
        console.log(`  ${x.mean_exec_time.toFixed(2)}/${x.max_exec_time.toFixed(1)}  ${x.mean_plan_time.toFixed(2)}/${x.max_plan_time.toFixed(1)}  ×${x.calls}  ${x.query.slice(0, 130)}`);
    }
    gcObserver.disconnect();
    const pauses = (xs: number[]) => {
      xs.sort((a, b) => a - b);
      return `${xs.length} times, ${xs.reduce((a, x) => a + x, 0).toFixed(0)} ms in all, longest ${(xs.at(-1) ?? 0).toFixed(1)} ms, ${xs.filter((x) => x >= 5).length} of them ≥ 5 ms`;
    };
    console.log(`timed; load average ${load()}; garbage collection paused the server ${pauses(serverGc)}; the bench's own process ${pauses(gc)}`);
    console.log(`${'operation'.padEnd(42)}    p50 ms    p99 ms │ app p50    p99 │ database ms: p50  max │ indexes used`);
    for (const [o, op] of ops.entries()) {
      const sorted = times[o]!.sort((a, b) => a - b);
      const p = { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
      const appSorted = appTimes[o]!.sort((a, b) => a - b);
      // The server's side: every statement of the operation under EXPLAIN (ANALYZE, BUFFERS), once per sampled tenant.
      const server: number[] = [];
      const used = new Set<string>();
      const seq = new Set<string>();
      let jit = 0;
      for (const t of targets) {
        plans.length = 0;
        await explaining.operations[o]!.run(t, k++);
        server.push(plans.reduce((sum, x) => sum + (x.executionMs ?? 0), 0));
        for (const x of plans) {
          jit += x.jitMs ?? 0;
          const text = JSON.stringify(x.plan);
          for (const m of text.match(/"Index Name":"([a-z0-9_]+)"/g) ?? []) used.add(m.slice(14, -1));
          for (const m of text.match(/"Node Type":"Seq Scan"[^}]*?"Relation Name":"([a-z_]+)"/g) ?? []) seq.add(m.replace(/.*"Relation Name":"/, '').slice(0, -1));
        }
      }
      server.sort((a, b) => a - b);
      const s = { p50: percentile(server, 50), max: server.at(-1)! };
      if (!results.has(op.name)) results.set(op.name, new Map());
      results.get(op.name)!.set(size, { ...p, server: s.p50 });
      const extra = `${seq.size ? `; seq: ${[...seq].join(', ')}` : ''}${jit ? `; JIT ${jit.toFixed(1)} ms` : ''}`;
      console.log(`${op.name.padEnd(42)} ${fmt(p.p50)}    ${fmt(p.p99)} │ ${fmt(percentile(appSorted, 50))} ${fmt(percentile(appSorted, 99))} │     ${fmt(s.p50)} ${fmt(s.max)} │ ${[...used].sort().join(', ')}${extra}`);
    }
  }

  if (SIZES.length > 1) {
    const small = SIZES[0]!;
    const large = SIZES.at(-1)!;
    console.log(`\np99 at ${large.toLocaleString('en')} against ${small.toLocaleString('en')} bookings (and the database's p50):`);
    for (const [name, bySize] of results) {
      const a = bySize.get(small)!;
      const b = bySize.get(large)!;
      console.log(`${name.padEnd(42)} ${fmt(a.p99)} → ${fmt(b.p99)} ms   ×${(b.p99 / a.p99).toFixed(2)}   (database p50 ${fmt(a.server)} → ${fmt(b.server)} ms)`);
    }
  }
  await explaining.close();
  await harness.close();
  await db.close();
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  await owner.end().catch(() => undefined);
  cluster.stop();
}
