import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot } from '../support/product.js';

// `npm run serve` as an operator (and the container image, whose command it is) runs it:
// the built packages, on a PostgreSQL of the test cluster, with secrets from the environment.

const cluster = process.env.CALBRIDGE_TEST_PG_URL;
const name = `calbridge_serve_${randomBytes(5).toString('hex')}`;
let databaseUrl: string;

function serve(env: Record<string, string | undefined>): { child: ChildProcess; output: string[]; exited: Promise<number | null> } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|CALBRIDGE_|CALCOM_|PUBLIC_URL|PORT)/.test(k)));
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'serve.mjs')], { cwd: repoRoot, env: { ...clean, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr.on('data', (d) => output.push(String(d)));
  createInterface({ input: child.stdout }).on('line', (l) => output.push(l));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  return { child, output, exited };
}

beforeAll(async () => {
  if (!cluster) throw new Error('CALBRIDGE_TEST_PG_URL is not set: run the suites through `npm test`');
  const c = new pg.Client({ connectionString: cluster });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(cluster);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
});
afterAll(async () => {
  if (!cluster) return;
  const c = new pg.Client({ connectionString: cluster });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
});

describe('npm run serve', () => {
  it('when DATABASE_URL or a secret is missing, then it refuses to start and names what is missing', async () => {
    const run = serve({ CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}` });
    expect(await run.exited).toBe(1);
    const said = run.output.join('');
    expect(said).toContain('refusing to start without DATABASE_URL, CALBRIDGE_ADMIN_TOKEN, PUBLIC_URL');
    expect(said).not.toContain('CALBRIDGE_ENCRYPTION_KEYS,');
  });

  it('when a secret is malformed, then the server stops at start-up naming the variable', async () => {
    const run = serve({ DATABASE_URL: databaseUrl, CALBRIDGE_ENCRYPTION_KEYS: 'k1:short', CALBRIDGE_ADMIN_TOKEN: 'x'.repeat(40), PUBLIC_URL: 'https://calbridge.example.test' });
    expect(await run.exited).toBe(1);
    expect(run.output.join('')).toContain('CALBRIDGE_ENCRYPTION_KEYS');
  });

  it('when started with the database and the secrets, then it migrates, is ready, serves the page-view path from its cache, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const admin = randomBytes(24).toString('hex');
    const metricsToken = randomBytes(24).toString('hex');
    const run = serve({
      DATABASE_URL: databaseUrl,
      CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      CALBRIDGE_ADMIN_TOKEN: admin,
      CALBRIDGE_METRICS_TOKEN: metricsToken,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    await new Promise<void>((ok, fail) => {
      const timer = setInterval(() => {
        if (run.output.some((l) => l.includes('Calbridge is running'))) {
          clearInterval(timer);
          ok();
        }
      }, 20);
      void run.exited.then((code) => {
        clearInterval(timer);
        fail(new Error(`serve exited with ${code}:\n${run.output.join('\n')}`));
      });
    });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/widget.js`)).status).toBe(200);

    const created = await fetch(`${base}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'served', name: 'Served', allowedOrigins: ['https://served.test'], calLink: 'served/intro' }),
    });
    expect(created.status).toBe(201);
    const first = await fetch(`${base}/v1/widget/served/config`, { headers: { origin: 'https://served.test' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=60, stale-while-revalidate=600');
    const again = await fetch(`${base}/v1/widget/served/config`, { headers: { origin: 'https://served.test', 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
    // Counted, though answered before the router: the page-view path is in the metrics.
    expect(await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text()).toContain('route="/v1/widget/:tenant/config",status="304"');

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 120_000);
});
