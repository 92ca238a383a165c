// npm run bench:config — the page-view path: GET /v1/widget/:tenant/config.
//
// 1. Starts a throwaway PostgreSQL (scripts/lib.mjs) and migrates it.
// 2. Starts the real server (createApp with its change feed, bench/config/server.ts) in a child
//    process and creates a tenant through the admin API.
// 3. Asks it once for the config (from a registered origin) and starts a bare `node:http` server
//    (bench/config/bare.mjs) in another child process that answers those same bytes with
//    those same headers.
// 4. Warms both up, then for BENCH_SECONDS (default 10, at most 60) each, in BENCH_ROUNDS (default 5)
//    interleaved slices, BENCH_CONCURRENCY (default 64) keep-alive connections ask for the config, one request at a time each,
//    from this process (a small HTTP/1.1 client on raw sockets, so the load generator costs
//    little and the same for both).
// 5. Prints requests/s, p50/p99 of both and their ratio. Goal: ratio ≥ 0.8, p99 ≤ 5 ms.
//    BENCH_CONDITIONAL=1 sends If-None-Match with the current ETag (every answer a 304).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

const { migrate } = await import('../../server/src/db/migrate.js');
const lib = (await import(new URL('../../scripts/lib.mjs', import.meta.url).href)) as {
  startThrowawayPostgres(): Promise<{ url: string; stop(): void }>;
};

const SECONDS = Math.min(60, Math.max(1, Number(process.env.BENCH_SECONDS ?? 10)));
const CONCURRENCY = Math.min(512, Math.max(1, Number(process.env.BENCH_CONCURRENCY ?? 64)));
const CONDITIONAL = process.env.BENCH_CONDITIONAL === '1';
const ROUNDS = Math.max(1, Math.min(20, Number(process.env.BENCH_ROUNDS ?? 5)));
const ADMIN = `bench_${randomBytes(24).toString('base64url')}`;
const ORIGIN = 'https://www.client-site.test';
const SLUG = 'bench-clinic';

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

function once(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

function startChild(file: string, env: NodeJS.ProcessEnv, message?: unknown): Promise<{ child: ChildProcess; port: number }> {
  // BENCH_CPU_PROFILE=<dir> writes a CPU profile of the real server.
  const profile = process.env.BENCH_CPU_PROFILE && file.endsWith('.ts') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const child = fork(new URL(file, import.meta.url).pathname, [], { env, execArgv: [...process.execArgv, ...profile], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((ok, fail) => {
    child.once('message', (m) => ok({ child, port: (m as { port: number }).port }));
    child.once('exit', (code) => fail(new Error(`${file} exited with ${code}`)));
    if (message) child.send(message);
  });
}

/**
 * One keep-alive connection asking again as soon as it has an answer. Parses just enough
 * HTTP/1.1 (status line, Content-Length) to know where an answer ends.
 */
function connection(port: number, raw: Buffer, deadline: bigint, latencies: number[], counts: { ok: number; failed: number }): Promise<void> {
  return new Promise((done) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let buffered = Buffer.alloc(0);
    let sent = 0n;
    const send = () => {
      if (process.hrtime.bigint() >= deadline) {
        socket.end();
        return done();
      }
      sent = process.hrtime.bigint();
      socket.write(raw);
    };
    socket.on('connect', send);
    socket.on('error', () => {
      counts.failed++;
      done();
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const status = Number(head.slice(9, 12));
        buffered = buffered.subarray(end + 4 + length);
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
        if (status === (CONDITIONAL ? 304 : 200)) counts.ok++;
        else counts.failed++;
        send();
      }
    });
  });
}

async function load(port: number, raw: Buffer, seconds: number) {
  const latencies: number[] = [];
  const counts = { ok: 0, failed: 0 };
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  await Promise.all(Array.from({ length: CONCURRENCY }, () => connection(port, raw, deadline, latencies, counts)));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  return { ...counts, seconds: elapsed, latencies: Float64Array.from(latencies).sort() };
}

const cluster = await lib.startThrowawayPostgres();
const children: ChildProcess[] = [];
try {
  await migrate(cluster.url);
  const env = {
    ...process.env,
    DATABASE_URL: cluster.url,
    CALBRIDGE_ADMIN_TOKEN: ADMIN,
    CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    PUBLIC_URL: 'https://calbridge.example.test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const app = await startChild('./server.ts', env);
  children.push(app.child);
  const auth = { authorization: `Bearer ${ADMIN}` };
  const created = await once(app.port, 'POST', '/v1/admin/tenants', auth, JSON.stringify({ slug: SLUG, name: 'Bench clinic', allowedOrigins: [ORIGIN], calLink: 'bench-clinic/intro-call' }));
  if (created.status !== 201) throw new Error(`tenant: ${created.status} ${created.body.toString()}`);

  const path = `/v1/widget/${SLUG}/config`;
  const sample = await once(app.port, 'GET', path, { origin: ORIGIN });
  if (sample.status !== 200) throw new Error(`config: ${sample.status} ${sample.body.toString()}`);
  const etag = String(sample.headers.etag);
  const conditional = CONDITIONAL ? await once(app.port, 'GET', path, { origin: ORIGIN, 'if-none-match': etag }) : sample;
  // Everything the server sent except what node:http writes itself for every answer.
  const headers = Object.fromEntries(
    Object.entries(conditional.headers).filter(([k]) => !['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(k)),
  ) as Record<string, string>;
  const bare = await startChild('./bare.mjs', {}, { status: conditional.status, headers, body: conditional.body.toString('base64') });
  children.push(bare.child);

  const raw = Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: calbridge.example.test\r\nOrigin: ${ORIGIN}\r\nAccept: application/json\r\nUser-Agent: calbridge-bench\r\n${CONDITIONAL ? `If-None-Match: ${etag}\r\n` : ''}\r\n`,
    'latin1',
  );
  // Warm-up (JIT, the cache, connections), not counted.
  await load(app.port, raw, 2);
  await load(bare.port, raw, 2);

  // Interleaved in ROUNDS slices (bare, server, bare, server, …): whatever else runs on the
  // machine meanwhile is about as likely to hurt either.
  const merge = (parts: Awaited<ReturnType<typeof load>>[]) => ({
    ok: parts.reduce((n, p) => n + p.ok, 0),
    failed: parts.reduce((n, p) => n + p.failed, 0),
    seconds: parts.reduce((n, p) => n + p.seconds, 0),
    latencies: Float64Array.from(parts.flatMap((p) => [...p.latencies])).sort(),
  });
  const bareParts = [];
  const realParts = [];
  for (let r = 0; r < ROUNDS; r++) {
    bareParts.push(await load(bare.port, raw, SECONDS / ROUNDS));
    realParts.push(await load(app.port, raw, SECONDS / ROUNDS));
  }
  const ceiling = merge(bareParts);
  const real = merge(realParts);

  const rate = (r: { ok: number; seconds: number }) => r.ok / r.seconds;
  const fmt = (n: number, d = 1) => n.toFixed(d);
  const line = (name: string, r: { ok: number; failed: number; seconds: number; latencies: Float64Array }) =>
    `${name.padEnd(30)} ${fmt(rate(r)).padStart(9)} requests/s   p50 ${fmt(percentile(r.latencies, 50), 2).padStart(6)} ms   p99 ${fmt(percentile(r.latencies, 99), 2).padStart(6)} ms   ok ${r.ok}  failed ${r.failed}`;
  console.log(
    `\nconfig: ${SECONDS} s each in ${ROUNDS} interleaved slices, ${CONCURRENCY} keep-alive connections, ${CONDITIONAL ? '304 (If-None-Match)' : `200, ${conditional.body.length} B body`}, LOG_LEVEL=${env.LOG_LEVEL}, Node ${process.version}`,
  );
  console.log(line('real server (createApp, cache)', real));
  console.log(line('bare node:http, same bytes', ceiling));
  console.log(`ratio real / bare: ${(rate(real) / rate(ceiling)).toFixed(2)}   (goal ≥ 0.8; p99 goal ≤ 5 ms)`);
  process.exitCode = real.failed === 0 && ceiling.failed === 0 ? 0 : 1;
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((ok) => setTimeout(ok, 300));
  cluster.stop();
}
