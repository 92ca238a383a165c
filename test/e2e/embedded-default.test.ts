import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { repoRoot, startProduct, type RunningProduct } from '../support/product.js';

// The end-to-end scenarios run against what `npm start` gives a new user: the launcher, the
// embedded PostgreSQL in the data directory, the worker, the sandbox. The embedded default is
// production's database (docs/decisions/0012-embedded-postgresql.md), so it must hold under the
// same use: concurrent deliveries, the job queue, erasure, a frozen database.

let product: RunningProduct;
const TENANT = 'embedded';
let secret = '';
let admin: Record<string, string>;

const base = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'webhooks', 'booking-created.json'), 'utf8')) as {
  payload: Record<string, unknown>;
};

/** The owner connection string of the embedded cluster: its port from postmaster.pid, its password from secrets.json. */
function embeddedUrl(password?: string): string {
  const pid = readFileSync(join(product.dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  const auth = password === undefined ? 'postgres' : `postgres:${encodeURIComponent(password)}`;
  return `postgres://${auth}@127.0.0.1:${pid[3]!.trim()}/postgres`;
}
const secrets = () => JSON.parse(readFileSync(join(product.dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;

function body(trigger: string, uid: string, createdAt: Date, email = 'ada@example.test'): string {
  const status = trigger === 'BOOKING_CANCELLED' ? 'CANCELLED' : 'ACCEPTED';
  const attendees = [{ name: 'Ada Lovelace', email, timeZone: 'Europe/London', language: { locale: 'en' }, utcOffset: 0 }];
  return JSON.stringify({ triggerEvent: trigger, createdAt: createdAt.toISOString(), payload: { ...base.payload, uid, status, attendees, metadata: {} } });
}

function post(text: string, signal?: AbortSignal) {
  return fetch(`${product.url}/v1/webhooks/calcom/${TENANT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cal-signature-256': createHmac('sha256', secret).update(text).digest('hex') },
    body: text,
    signal,
  });
}

/** Runs `tasks` with at most `width` in flight. */
async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

/** Every process of the embedded cluster: the postmaster and its children (backends, checkpointer…). */
function clusterPids(): number[] {
  const postmaster = Number(readFileSync(join(product.dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

beforeAll(async () => {
  product = await startProduct({ env: { CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS: 'true', LOG_LEVEL: 'warn' } });
  admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
  const created = await fetch(`${product.url}/v1/admin/tenants`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ slug: TENANT, name: 'Embedded default', allowedOrigins: ['https://embedded.example'] }),
  });
  expect(created.status).toBe(201);
  const rotated = await fetch(`${product.url}/v1/admin/tenants/${TENANT}/webhook-secret`, { method: 'POST', headers: admin });
  secret = ((await rotated.json()) as { secret: string }).secret;
});

afterAll(async () => {
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

describe('npm start on its embedded PostgreSQL, used like production', () => {
  it('when a connection comes without the password, then the embedded database refuses it', async () => {
    for (const url of [embeddedUrl(), embeddedUrl('not-the-password')]) {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      const refused = await c.connect().then(
        () => null,
        (err: { code?: string; message: string }) => err,
      );
      await c.end().catch(() => undefined);
      expect(refused, url.replace(/:[^:@/]*@/, ':***@')).not.toBeNull();
    }
    const c = new pg.Client({ connectionString: embeddedUrl(secrets().CALBRIDGE_EMBEDDED_DATABASE_PASSWORD) });
    await c.connect();
    const { rows } = await c.query<{ listen: string; version: number }>("SELECT current_setting('listen_addresses') AS listen, current_setting('server_version_num')::int AS version");
    await c.end();
    expect(rows[0]).toEqual({ listen: '127.0.0.1', version: expect.any(Number) });
    expect(rows[0]!.version).toBeGreaterThanOrEqual(170000);
  });

  it('when 300 signed deliveries arrive 16 at a time, shuffled and a third repeated, then each is answered and stored exactly once', async () => {
    const start = Date.now() - 60_000;
    const uids = Array.from({ length: 100 }, (_, i) => `emb-${i}-${randomUUID().slice(0, 8)}`);
    // Per booking: created, then cancelled or sent again with a later time; a third of all bodies sent twice.
    const unique: string[] = [];
    uids.forEach((uid, i) => {
      unique.push(body('BOOKING_CREATED', uid, new Date(start + i)));
      unique.push(body(i % 2 ? 'BOOKING_CANCELLED' : 'BOOKING_CREATED', uid, new Date(start + 10_000 + i)));
    });
    const all = [...unique, ...unique.filter((_, i) => i % 2 === 0)];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const answers = await pool(
      all.map((text) => async () => {
        const res = await post(text, AbortSignal.timeout(20_000));
        return res.status;
      }),
      16,
    );
    expect(answers.filter((s) => s !== 200)).toEqual([]);

    const c = new pg.Client({ connectionString: embeddedUrl(secrets().CALBRIDGE_EMBEDDED_DATABASE_PASSWORD) });
    await c.connect();
    const { rows } = await c.query<{ uid: string; status: string; n: number }>(
      `SELECT b.uid, b.status, count(*) OVER (PARTITION BY b.uid)::int AS n FROM bookings b JOIN tenants t ON t.id = b.tenant_id WHERE t.slug = $1`,
      [TENANT],
    );
    const inbox = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_inbox i JOIN tenants t ON t.id = i.tenant_id WHERE t.slug = $1`, [TENANT]);
    await c.end();
    expect(rows.length).toBe(uids.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const byUid = new Map(rows.map((r) => [r.uid, r.status]));
    uids.forEach((uid, i) => expect({ uid, status: byUid.get(uid) }).toEqual({ uid, status: i % 2 ? 'cancelled' : 'accepted' }));
    expect(inbox.rows[0]!.n).toBe(unique.length);
  });

  it('when a CRM destination is registered and fails once, then the job queue delivers its messages within a minute', async () => {
    const received: string[] = [];
    let failFirst = true;
    const receiver: Server = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += String(d)));
      req.on('end', () => {
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
          return;
        }
        received.push(text);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const dest = await fetch(`${product.url}/v1/admin/tenants/${TENANT}/destinations`, { method: 'POST', headers: admin, body: JSON.stringify({ kind: 'webhook', url }) });
      expect(dest.status).toBe(201);
      const uid = `emb-crm-${randomUUID().slice(0, 8)}`;
      expect((await post(body('BOOKING_CREATED', uid, new Date(), 'grace@example.test'))).status).toBe(200);
      await expect.poll(() => received.some((m) => m.includes(uid)), { timeout: 60_000, interval: 250 }).toBe(true);
      expect(failFirst).toBe(false);
    } finally {
      receiver.close();
    }
  });

  it('when a person is erased through the admin API, then no booking of theirs keeps their email', async () => {
    const uid = `emb-gdpr-${randomUUID().slice(0, 8)}`;
    expect((await post(body('BOOKING_CREATED', uid, new Date(), 'erase.me@example.test'))).status).toBe(200);
    const erased = await fetch(`${product.url}/v1/admin/tenants/${TENANT}/subjects/${encodeURIComponent('erase.me@example.test')}`, { method: 'DELETE', headers: admin });
    expect(erased.status).toBe(200);
    const c = new pg.Client({ connectionString: embeddedUrl(secrets().CALBRIDGE_EMBEDDED_DATABASE_PASSWORD) });
    await c.connect();
    const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings b WHERE b::text ILIKE '%erase.me@example.test%'`);
    await c.end();
    expect(rows[0]!.n).toBe(0);
  });

  it('when PostgreSQL is frozen, then /readyz and the API answer within seconds, a verified delivery is spooled, and after it thaws the server serves again and the delivery is stored', async () => {
    // What the product said is the only trace of a failure that happens inside it (a crash, a lost connection).
    onTestFailed(() => console.error(`npm start said (last 80 lines):\n${product.output.slice(-80).join('\n')}`));
    const frozenUid = `emb-frozen-${randomUUID().slice(0, 8)}`;
    const pids = clusterPids();
    // A backend may end between listing and signalling (ESRCH): only the live ones are frozen.
    const signal = (sig: NodeJS.Signals) => {
      for (const pid of pids) {
        try {
          process.kill(pid, sig);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      }
    };
    signal('SIGSTOP');
    try {
      // Bounded by the request's own deadline, not a wall-clock assertion: it answers, and says not ready.
      const ready = await fetch(`${product.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
      expect(ready.status).toBe(503);
      const read = await fetch(`${product.url}/v1/admin/tenants/${TENANT}`, { headers: admin, signal: AbortSignal.timeout(20_000) });
      expect(read.status).toBe(503);
      expect(read.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await read.json()) as { code: string }).code).toBe('database_unavailable');
      // A verified Cal.com delivery is acknowledged all the same (Cal.com never sends it again): spooled.
      const spooled = await post(body('BOOKING_CREATED', frozenUid, new Date()), AbortSignal.timeout(30_000));
      expect(spooled.status).toBe(202);
      expect(await spooled.json()).toMatchObject({ received: true, spooled: true });
    } finally {
      signal('SIGCONT');
    }
    await expect.poll(async () => (await fetch(`${product.url}/readyz`)).status, { timeout: 30_000, interval: 200 }).toBe(200);
    // Polled like /readyz: a keep-alive connection the client kept from the frozen minutes may be
    // closed under it by the time it is reused, which says nothing about the server.
    await expect.poll(async () => (await fetch(`${product.url}/v1/admin/tenants/${TENANT}`, { headers: admin })).status, { timeout: 10_000, interval: 200 }).toBe(200);
    // What was acknowledged while it was frozen is in the bookings once it thawed.
    await expect
      .poll(async () => (await fetch(`${product.url}/v1/admin/tenants/${TENANT}/bookings/${frozenUid}`, { headers: admin })).status, { timeout: 30_000, interval: 250 })
      .toBe(200);
  });
});
