// npm run bench:webhooks — the webhook intake against the database ceiling.
//
// 1. Starts a throwaway PostgreSQL (scripts/lib.mjs) and migrates it.
// 2. Starts the real server (createApp on an HTTP listener, bench/webhook-ingest/server.ts)
//    in a child process, creates a tenant and its webhook secret through the admin API.
// 3. After a warm-up (BENCH_WARMUP deliveries, not counted), for BENCH_SECONDS (default 10, at
//    most 60), BENCH_CONCURRENCY (default 32) keep-alive
//    connections post distinct, signed, Cal.com-shaped BOOKING_CREATED deliveries.
// 4. After the same warm-up, for the same time and concurrency, a bare `pg` loop inserts the same rows
//    (inbox, booking event, booking, job, delivery log: one transaction each) on a pool
//    of the same size: the database ceiling.
// 5. Prints deliveries/s, p50/p99 latency of both and their ratio, the CPU time each
//    process (load generator, server, PostgreSQL) spent per delivery in each phase, and
//    checks that every 200 is stored exactly once (inbox row, event, booking, outbox job)
//    and nothing else is.
//
// Opt-in, for finding where the CPU goes (they cost CPU themselves: compare figures only between
// runs with the same options):
//   BENCH_CPU_PROFILE=dir   the server's CPU profile of the timed intake phase only, written to dir
//                           (open it in Chrome's DevTools, or summarise the .cpuprofile JSON).
//   BENCH_PERF=file         `perf record` (Linux perf, on-CPU samples only, so time a busy machine takes
//                           the server off the CPU is not counted) of the server during the timed intake
//                           phase, with V8's symbol map: `perf report -i file --no-children`.
//   BENCH_PG_STATEMENTS=1   PostgreSQL with pg_stat_statements: after each phase, the statements with
//                           the most execution + planning time per delivery.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { Agent, request } from 'node:http';

const require = createRequire(new URL('../../server/package.json', import.meta.url));
// pg is the server package's dependency, not the root's: resolved from there.
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
const pg = require('pg') as typeof import('pg');
const { migrate } = await import('../../server/src/db/migrate.js');
const lib = (await import(new URL('../../scripts/lib.mjs', import.meta.url).href)) as {
  startThrowawayPostgres(options?: { settings?: string[] }): Promise<{ url: string; dir: string; stop(): void }>;
};

const SECONDS = Math.min(60, Math.max(1, Number(process.env.BENCH_SECONDS ?? 10)));
const CONCURRENCY = Math.min(256, Math.max(1, Number(process.env.BENCH_CONCURRENCY ?? 32)));
const POOL = Math.min(100, Math.max(1, Number(process.env.BENCH_POOL ?? 10)));
const ADMIN = `bench_${randomBytes(24).toString('base64url')}`;
const METRICS = `bench_${randomBytes(24).toString('base64url')}`;
const template = JSON.parse(readFileSync(new URL('../../test/fixtures/webhooks/booking-created.json', import.meta.url), 'utf8')) as {
  payload: Record<string, unknown>;
};

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

function deliveryBody(uid: string): string {
  return JSON.stringify({
    triggerEvent: 'BOOKING_CREATED',
    createdAt: new Date().toISOString(),
    payload: { ...template.payload, uid, metadata: { calbridge_tenant: 'bench' } },
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function post(port: number, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

// CPU time per delivery, per process, from /proc (Linux): on a machine shared with other work the
// wall-clock rate moves with the neighbours' load, CPU time spent per delivery much less so.
const TICK_MS = 10; // USER_HZ is 100 on Linux
function procCpuMs(pid: number, withChildren: boolean, only?: 'system'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 0, utime 11, stime 12, cutime 13, cstime 14.
    if (only === 'system') return Number(f[12]) * TICK_MS;
    const own = Number(f[11]) + Number(f[12]);
    return (withChildren ? own + Number(f[13]) + Number(f[14]) : own) * TICK_MS;
  } catch {
    return 0; // the process ended meanwhile
  }
}
/** The cluster's CPU: the postmaster with its ended children, plus every live child (backends, walwriter, …). */
function postgresCpuMs(postmaster: number): number {
  let total = procCpuMs(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) total += procCpuMs(Number(entry), false);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
interface CpuSample { generator: number; server: number; serverSystem: number; postgres: number }

async function timed(
  work: (worker: number, n: number) => Promise<boolean>,
  cpu: () => CpuSample,
): Promise<{ ok: number; failed: number; latencies: number[]; seconds: number; cpu: CpuSample }> {
  const latencies: number[] = [];
  const cpu0 = cpu();
  let ok = 0;
  let failed = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(SECONDS) * 1_000_000_000n;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let n = 0; process.hrtime.bigint() < deadline; n++) {
        const t0 = process.hrtime.bigint();
        if (await work(worker, n)) ok++;
        else failed++;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu1 = cpu();
  const perDelivery = (k: keyof CpuSample) => (cpu1[k] - cpu0[k]) / Math.max(1, ok);
  return {
    ok, failed, latencies: latencies.sort((a, b) => a - b), seconds,
    cpu: { generator: perDelivery('generator'), server: perDelivery('server'), serverSystem: perDelivery('serverSystem'), postgres: perDelivery('postgres') },
  };
}

const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';
const cluster = await lib.startThrowawayPostgres(
  PG_STATEMENTS ? { settings: ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'pg_stat_statements.track_planning=on'] } : {},
);

/** The statements that took the most time (execution + planning) in a phase, per delivery. */
async function statementReport(url: string, deliveries: number): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ query: string; calls: string; exec: number; plan: number; plans: string }>(
      `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls, total_exec_time AS exec, total_plan_time AS plan, plans
         FROM pg_stat_statements WHERE toplevel ORDER BY total_exec_time + total_plan_time DESC LIMIT 12`,
    );
    await c.query('SELECT pg_stat_statements_reset()');
    return r.rows.map(
      (s) =>
        `  ${((s.exec + s.plan) / deliveries).toFixed(3)} ms/delivery (plan ${(s.plan / deliveries).toFixed(3)}), ${(Number(s.calls) / deliveries).toFixed(2)} calls/delivery, ${(Number(s.plans) / deliveries).toFixed(2)} plans/delivery: ${s.query.slice(0, 140)}`,
    );
  } finally {
    await c.end();
  }
}
let server: ChildProcess | undefined;
try {
  await migrate(cluster.url);
  if (PG_STATEMENTS) {
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.end();
  }
  const env = {
    ...process.env,
    DATABASE_URL: cluster.url,
    DATABASE_POOL_MAX: String(POOL),
    CALBRIDGE_ADMIN_TOKEN: ADMIN,
    CALBRIDGE_METRICS_TOKEN: METRICS,
    CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const execArgv = process.env.BENCH_PERF ? [...process.execArgv, '--perf-basic-prof-only-functions'] : process.execArgv;
  server = fork(new URL('./server.ts', import.meta.url).pathname, [], { env, execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((ok, fail) => {
    server!.once('message', (m) => ok((m as { port: number }).port));
    server!.once('exit', (code) => fail(new Error(`server exited with ${code}`)));
  });
  const auth = { authorization: `Bearer ${ADMIN}` };
  const tenant = JSON.parse((await post(port, '/v1/admin/tenants', JSON.stringify({ slug: 'bench', name: 'Bench', allowedOrigins: [] }), auth)).text) as { id: string };
  const { secret } = JSON.parse((await post(port, '/v1/admin/tenants/bench/webhook-secret', '', auth)).text) as { secret: string };

  // Warm-up, not counted: BENCH_WARMUP deliveries (default 2000) on all connections before each
  // timed phase, the same for both. Until decision 0031 the intake had 200 one at a time and the
  // ceiling none, too few for V8 to finish optimising: the timed intake phase then paid for its
  // compilation and ran partly unoptimised code (server CPU per delivery 1.34 ms against 0.70 ms
  // after 3000, in two runs back to back). BENCH_WARMUP=0 leaves both cold.
  const WARMUP = Math.max(0, Number(process.env.BENCH_WARMUP ?? 2000));
  const warmUp = (one: (i: number) => Promise<unknown>) =>
    Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; i < WARMUP; i += CONCURRENCY) await one(i);
    }));
  await warmUp((i) => {
    const body = deliveryBody(`warm-${i}`);
    return post(port, '/v1/webhooks/calcom/bench', body, { 'x-cal-signature-256': createHmac('sha256', secret).update(body).digest('hex') });
  });

  const postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const serverPid = server.pid!;
  const cpu = (): CpuSample => {
    const own = process.cpuUsage();
    return { generator: (own.user + own.system) / 1000, server: procCpuMs(serverPid, false), serverSystem: procCpuMs(serverPid, false, 'system'), postgres: postgresCpuMs(postmaster) };
  };

  let perf: ChildProcess | undefined;
  const profiling = async (what: 'start' | 'stop') => {
    if (process.env.BENCH_PERF && what === 'start') {
      perf = spawn('perf', ['record', '-F', '997', '-g', '-p', String(server!.pid), '-o', process.env.BENCH_PERF], { stdio: ['ignore', 'ignore', 'inherit'] });
      await new Promise((ok) => setTimeout(ok, 500)); // perf attaches
    } else if (perf && what === 'stop') {
      const ended = new Promise((ok) => perf!.once('exit', ok));
      perf.kill('SIGINT');
      await ended;
      console.log(`server perf record of the intake phase: ${process.env.BENCH_PERF}`);
    }
    if (!process.env.BENCH_CPU_PROFILE) return;
    const answered = new Promise<{ profiled?: string }>((ok) => server!.once('message', (m) => ok(m as { profiled?: string })));
    server!.send({ profile: what });
    const m = await answered;
    if (m.profiled) console.log(`server CPU profile of the intake phase: ${m.profiled}`);
  };
  const statements: Record<string, string[]> = {};
  if (PG_STATEMENTS) await statementReport(cluster.url, 1);

  const accepted = new Set<string>();
  await profiling('start');
  const app = await timed(async (worker, n) => {
    const uid = `app-${worker}-${n}`;
    const body = deliveryBody(uid);
    const res = await post(port, '/v1/webhooks/calcom/bench', body, { 'x-cal-signature-256': createHmac('sha256', secret).update(body).digest('hex') });
    if (res.status !== 200 || res.text.includes('"duplicate":true')) return false;
    accepted.add(uid);
    return true;
  }, cpu);
  await profiling('stop');
  if (PG_STATEMENTS) statements.intake = await statementReport(cluster.url, app.ok);

  // How many deliveries shared a transaction (group commit, decision 0024), from the server's metrics.
  const metricsText = await new Promise<string>((ok, fail) => {
    request({ host: '127.0.0.1', port, path: '/metrics', agent, headers: { authorization: `Bearer ${METRICS}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    }).on('error', fail).end();
  });
  const metricValue = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metricsText)?.[1] ?? NaN);
  const groups = { deliveries: metricValue('calbridge_webhook_commit_group_size_sum'), transactions: metricValue('calbridge_webhook_commit_group_size_count') };

  // The ceiling: the same rows, one transaction per delivery, straight through pg.
  const pool = new pg.Pool({ connectionString: cluster.url, max: POOL });
  const bareDelivery = async (uid: string): Promise<boolean> => {
    const body = Buffer.from(deliveryBody(uid));
    const p = template.payload as { startTime: string; endTime: string; eventTypeId: number; attendees: { email: string }[]; title: string; organizer: unknown };
    const now = new Date();
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const inbox = await c.query<{ id: string }>(
        `INSERT INTO webhook_inbox (tenant_id, body_sha256, trigger_event, event_created_at, booking_uid, received_at, body)
         VALUES ($1, $2, 'BOOKING_CREATED', $3, $4, $3, $5) RETURNING id`,
        [tenant.id, createHash('sha256').update(body).digest(), now, uid, body],
      );
      const eventId = randomUUID();
      await c.query(
        `INSERT INTO booking_events (tenant_id, id, booking_uid, trigger_event, occurred_at, rank, source, inbox_id, status, recorded_at)
         VALUES ($1, $2, $3, 'BOOKING_CREATED', $4, 2, 'webhook', $5, 'accepted', $4)`,
        [tenant.id, eventId, uid, now, inbox.rows[0]!.id],
      );
      await c.query(
        `INSERT INTO bookings (tenant_id, uid, calcom_id, status, title, start_time, end_time, event_type_id, attendees, attendee_emails, organizer, metadata, state_at, state_rank, state_event_id, created_at, updated_at)
         VALUES ($1, $2, 1001, 'accepted', $3, $4, $5, $6, $7, $8, $9, $10, $11, 2, $12, $11, $11)`,
        [tenant.id, uid, p.title, p.startTime, p.endTime, p.eventTypeId, JSON.stringify(p.attendees), p.attendees.map((a) => a.email), JSON.stringify(p.organizer), '{"calbridge_tenant":"bench"}', now, eventId],
      );
      await c.query(`SELECT calbridge_enqueue('booking.changed', $1::json)`, [JSON.stringify({ tenantId: tenant.id, bookingUid: uid, eventId })]);
      await c.query(`INSERT INTO webhook_deliveries (tenant_id, received_at, trigger_event, outcome, inbox_id) VALUES ($1, $2, 'BOOKING_CREATED', 'accepted', $3)`, [tenant.id, now, inbox.rows[0]!.id]);
      await c.query('COMMIT');
      return true;
    } catch {
      await c.query('ROLLBACK').catch(() => undefined);
      return false;
    } finally {
      c.release();
    }
  };
  await warmUp((i) => bareDelivery(`warm-bare-${i}`));
  if (PG_STATEMENTS) await statementReport(cluster.url, 1);
  const bare = await timed((worker, n) => bareDelivery(`bare-${worker}-${n}`), cpu);
  if (PG_STATEMENTS) statements.ceiling = await statementReport(cluster.url, bare.ok);

  // Zero lost, zero duplicated: every 200 has exactly one inbox row, one event and one booking, and nothing else was stored.
  const q = async (sql: string) => (await pool.query<{ uid: string; n: number }>(sql)).rows;
  const inbox = await q(`SELECT booking_uid AS uid, count(*)::int AS n FROM webhook_inbox WHERE booking_uid LIKE 'app-%' GROUP BY 1`);
  const events = await q(`SELECT booking_uid AS uid, count(*)::int AS n FROM booking_events WHERE booking_uid LIKE 'app-%' GROUP BY 1`);
  const bookings = await q(`SELECT uid, count(*)::int AS n FROM bookings WHERE uid LIKE 'app-%' GROUP BY 1`);
  // Every stored booking event has its booking.changed job (the outbox), queued once.
  const jobs = await q(`SELECT payload->>'bookingUid' AS uid, count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'bookingUid' LIKE 'app-%' GROUP BY 1`);
  const check = (rows: { uid: string; n: number }[]) => ({
    lost: [...accepted].filter((u) => !rows.some((r) => r.uid === u)).length,
    duplicated: rows.filter((r) => r.n > 1).length,
    unexpected: rows.filter((r) => !accepted.has(r.uid)).length,
  });
  const integrity = { inbox: check(inbox), events: check(events), bookings: check(bookings), jobs: check(jobs) };
  await pool.end();

  const rate = (r: { ok: number; seconds: number }) => r.ok / r.seconds;
  const fmt = (n: number) => n.toFixed(1);
  const line = (name: string, r: Awaited<ReturnType<typeof timed>>) =>
    `${name.padEnd(26)} ${fmt(rate(r)).padStart(9)} deliveries/s   p50 ${fmt(percentile(r.latencies, 50)).padStart(6)} ms   p99 ${fmt(percentile(r.latencies, 99)).padStart(6)} ms   ok ${r.ok}  failed ${r.failed}`;
  console.log(`\nwebhook-ingest: ${SECONDS} s, ${CONCURRENCY} concurrent connections, pool ${POOL}, warm-up ${WARMUP} deliveries per phase, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(line('intake (HTTP, real server)', app));
  console.log(line('database ceiling (bare pg)', bare));
  console.log(`ratio intake / ceiling: ${(rate(app) / rate(bare)).toFixed(2)}`);
  const cpuLine = (name: string, r: Awaited<ReturnType<typeof timed>>) =>
    `${name.padEnd(26)} CPU ms per delivery: load generator ${r.cpu.generator.toFixed(2)}, server ${r.cpu.server.toFixed(2)} (system ${r.cpu.serverSystem.toFixed(2)}), PostgreSQL ${r.cpu.postgres.toFixed(2)}, total ${(r.cpu.generator + r.cpu.server + r.cpu.postgres).toFixed(2)}`;
  console.log(cpuLine('intake', app));
  console.log(cpuLine('ceiling', bare));
  if (groups.transactions > 0) console.log(`intake transactions: ${groups.transactions} for ${groups.deliveries} deliveries (warm-up included), ${(groups.deliveries / groups.transactions).toFixed(2)} per transaction`);
  for (const [phase, lines] of Object.entries(statements)) console.log(`PostgreSQL statements, ${phase} (pg_stat_statements):\n${lines.join('\n')}`);
  const clean = Object.values(integrity).every((c) => c.lost === 0 && c.duplicated === 0 && c.unexpected === 0);
  console.log(`integrity: ${clean ? 'zero lost, zero duplicated' : JSON.stringify(integrity)} (${accepted.size} accepted deliveries checked)`);
  process.exitCode = clean && app.failed === 0 ? 0 : 1;
} finally {
  server?.kill('SIGTERM');
  await new Promise((ok) => setTimeout(ok, 300));
  cluster.stop();
  agent.destroy();
}
