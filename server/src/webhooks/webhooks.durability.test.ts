import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, DEFAULT_DB_TIMEOUTS } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createTestApp, type TestApp } from '../test-support/app.js';
import { signCalcomBody } from './webhooks.signature.js';
import { bookingBody, createTenant, setWebhookSecret } from './webhooks.test-support.js';

// PostgreSQL is stopped in the middle of a stream and started again. This file
// starts a throwaway cluster of its own (scripts/lib.mjs), so stopping it never
// disturbs the suites that run in parallel on the shared one.

interface Cluster {
  url: string;
  stop(): void;
  pgCtl: { bin: string; data: string; dir: string; opts: string; asPgUser: boolean };
}

const SECRET = 'whsec_durability_00000000000000000000';
let cluster: Cluster;
let t: TestApp;
let server: Server;
let base: string;

function pgCtl(args: string[]): void {
  const c = cluster.pgCtl;
  const cmd = [join(c.bin, 'pg_ctl'), '-D', c.data, ...args];
  const r = c.asPgUser ? spawnSync('runuser', ['-u', 'postgres', '--', ...cmd], { stdio: 'ignore' }) : spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`pg_ctl ${args.join(' ')} exited with ${r.status}`);
}
const stopDatabase = () => pgCtl(['-m', 'fast', 'stop']);
const startDatabase = () => pgCtl(['-l', join(cluster.pgCtl.dir, 'server.log'), '-o', cluster.pgCtl.opts, '-w', '-t', '60', 'start']);

beforeAll(async () => {
  const lib = (await import(new URL('../../../scripts/lib.mjs', import.meta.url).href)) as { startThrowawayPostgres(): Promise<Cluster> };
  cluster = await lib.startThrowawayPostgres();
  await migrate(cluster.url);
  const db = createDb({ connectionString: cluster.url, max: 8, timeouts: { ...DEFAULT_DB_TIMEOUTS, acquireMs: 1000 }, onError: () => undefined });
  const owner = new pg.Pool({ connectionString: cluster.url, max: 2 });
  owner.on('error', () => undefined);
  owner.on('connect', (client) => client.on('error', () => undefined));
  t = await createTestApp({ database: { ownerUrl: cluster.url, db, owner, name: 'postgres', drop: async () => undefined } });
  await setWebhookSecret(t, await createTenant(t, 'durable'), SECRET);
  server = createServer(t.app);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  try {
    await new Promise((ok) => server?.close(ok));
    await t?.database.db.close().catch(() => undefined);
    await t?.database.owner.end().catch(() => undefined);
  } finally {
    cluster?.stop();
  }
});

/** Entries waiting in the app's webhook spool (webhooks.spool.ts names them `<ms>-<seq>-<tag>.json`; older ones without the tag). */
function waiting(): number {
  try {
    return readdirSync(t.config.webhookSpool.dir).filter((f) => /^\d{13}-\d{10}(?:-[0-9a-f]{8})?\.json$/.test(f)).length;
  } catch {
    return 0;
  }
}

async function post(body: string): Promise<number> {
  try {
    const res = await fetch(`${base}/v1/webhooks/calcom/durable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cal-signature-256': signCalcomBody(body, SECRET) },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // no answer at all
  }
}

describe.sequential('webhook intake when PostgreSQL goes away', () => {
  it('when PostgreSQL stops mid-stream and comes back, then every delivery is acknowledged (spooled while it was away) and stored exactly once afterwards', async () => {
    const bodies = Array.from({ length: 600 }, (_, i) => bookingBody('BOOKING_CREATED', new Date(t.clock.now().getTime() - 60_000 + i), { uid: `dur-${i}`, metadata: {} }));
    const status = new Map<number, number>();
    let next = 0;
    let outage: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < bodies.length) {
          const i = next++;
          if (i === 150) {
            outage = (async () => {
              try {
                stopDatabase();
                await new Promise((ok) => setTimeout(ok, 1500));
              } finally {
                startDatabase();
              }
            })();
          }
          status.set(i, await post(bodies[i]!));
          if (i > 150 && i < 400) await new Promise((ok) => setTimeout(ok, 5)); // keep the stream going across the outage
        }
      }),
    );
    await outage;

    const answers = [...status.values()];
    // Cal.com never sends a delivery again once it got an error (FACTS: "Retries"): every verified
    // delivery is acknowledged, stored at once (200) or spooled while the database was away (202).
    expect(answers.filter((s) => s === 200).length).toBeGreaterThan(100);
    expect(answers.filter((s) => s === 202).length).toBeGreaterThan(0);
    expect(answers.filter((s) => s !== 200 && s !== 202)).toEqual([]);

    // Once the database is back the spool drains into the same path: every acknowledged delivery
    // is stored whole, exactly once, with nothing left waiting.
    await expect.poll(waiting, { timeout: 60_000, interval: 200 }).toBe(0);
    const q = async (sql: string) => new Set((await t.database.owner.query<{ uid: string }>(sql)).rows.map((r) => r.uid));
    const inbox = await q("SELECT booking_uid AS uid FROM webhook_inbox WHERE booking_uid LIKE 'dur-%'");
    const bookings = await q("SELECT uid FROM bookings WHERE uid LIKE 'dur-%'");
    const events = await q("SELECT booking_uid AS uid FROM booking_events WHERE booking_uid LIKE 'dur-%'");
    for (let i = 0; i < bodies.length; i++) {
      const uid = `dur-${i}`;
      expect({ uid, parts: [inbox.has(uid), bookings.has(uid), events.has(uid)] }).toEqual({ uid, parts: [true, true, true] });
    }
    const n = await t.database.owner.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_inbox WHERE booking_uid LIKE 'dur-%'");
    expect(n.rows[0]!.n).toBe(bodies.length);
  }, 180_000);
});
