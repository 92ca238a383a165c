import { WidgetConfig } from '@calbridge/shared';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { CHANGES_APPLICATION_NAME, createChangeFeed, type Change, type ChangeFeed } from '../db/changes.js';
import { createDb, type Db } from '../db/db.js';
import { asAdmin, asMetrics, capturingLogger, manualClock, offlineFetch, testConfig } from '../test-support/app.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';

// Two instances of the server on one database, each with its own pool and its own
// LISTEN connection, as two processes behind a load balancer would have.
interface Instance {
  app: Express;
  db: Db;
  changes: ChangeFeed;
}

let database: TestDatabase;
let a: Instance;
let b: Instance;
const ORIGIN = 'https://www.dental.test';

async function instance(): Promise<Instance> {
  const config = testConfig({ DATABASE_URL: database.ownerUrl, CALCOM_APP_URL: 'https://cal.example.test', PUBLIC_URL: 'https://calbridge.test' });
  const { logger } = capturingLogger();
  const db = createDb({ connectionString: database.ownerUrl, max: 4 });
  // A slow heartbeat: on a loaded machine a late `SELECT 1` would reset the cache in the middle of a test
  // that shows what the cache holds (the listener is still checked; the reconnect test ends it by force).
  const changes = createChangeFeed({ connectionString: database.ownerUrl, logger, heartbeatMs: 120_000 });
  await changes.whenLive();
  return { app: createApp({ config, db, fetch: offlineFetch, clock: manualClock(), logger, changes }), db, changes };
}

/** Resolves with the next change the instance hears about this tenant (the signal, instead of a sleep). */
function nextChange(i: Instance, tenantId: string | ((c: Change) => boolean)): Promise<Change> {
  const wanted = typeof tenantId === 'string' ? (c: Change) => c.tenantId === tenantId : tenantId;
  return new Promise((ok) => {
    const off = i.changes.subscribe({
      onChange(c) {
        if (!wanted(c)) return;
        off();
        ok(c);
      },
      onReset() {},
    });
  });
}

function nextReset(i: Instance): Promise<void> {
  return new Promise((ok) => {
    const off = i.changes.subscribe({
      onChange() {},
      onReset() {
        off();
        ok();
      },
    });
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  a = await instance();
  b = await instance();
});
afterAll(async () => {
  for (const i of [a, b]) {
    await i?.changes.close();
    await i?.db.close();
  }
  await database?.drop();
});

let n = 0;
/** The scopes of a session minted through `i` for `slug` (what the connection's summary lets it do). */
async function sessionScopes(i: Instance, slug: string): Promise<string[]> {
  const c = await config(i.app, slug);
  const res = await request(i.app)
    .post(`/v1/widget/${slug}/sessions`)
    .set('Origin', ORIGIN)
    .send({ consent: { version: c.body.consent.version, purposes: ['booking'] }, context: { pageUrl: `${ORIGIN}/`, referrer: '', utm: {} } });
  expect(res.status).toBe(201);
  return res.body.scopes as string[];
}

/** A connected Cal.com account for the tenant, written directly (its NOTIFY is what the tests wait for). */
const connectCalcom = (tenantId: string) =>
  database.owner.query(
    `INSERT INTO calcom_connections (tenant_id, kind, status, calcom_user_id, calcom_username, tokens_ciphertext, key_id, access_expires_at, connected_at)
     VALUES ($1, 'oauth', 'connected', 1, 'clinic', 'v1.x', 'k1', now() + interval '1 hour', now())`,
    [tenantId],
  );

async function tenant(): Promise<{ slug: string; id: string }> {
  const slug = `clinic-${++n}`;
  const res = await request(a.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: 'Clinic', allowedOrigins: [ORIGIN], calLink: 'clinic/check-up' });
  expect(res.status).toBe(201);
  // The creation's NOTIFY reaches the instances a moment later and drops what they cached of the tenant;
  // a test that reads the config right away must not have it dropped halfway through.
  await heardByAll();
  return { slug, id: res.body.id as string };
}

let barriers = 0;
/**
 * Resolves once both instances have heard every change committed so far: PostgreSQL delivers
 * notifications in commit order, so hearing a marker sent now means hearing all before it.
 * The marker names no real tenant, so it drops nothing from a cache.
 */
async function heardByAll(): Promise<void> {
  const slug = `barrier-${++barriers}`;
  const heard = Promise.all([a, b].map((i) => nextChange(i, (c) => c.slug === slug)));
  await database.owner.query(`SELECT pg_notify('calbridge_changes', json_build_object('table', 'tenants', 'tenantId', gen_random_uuid(), 'slug', $1::text)::text)`, [slug]);
  await heard;
}
const config = (app: Express, slug: string) => request(app).get(`/v1/widget/${slug}/config`).set('Origin', ORIGIN);

/** Changes the tenant's theme behind every cache's back (no NOTIFY), to show what a cache still serves. */
async function silentThemeChange(slug: string, theme: string): Promise<void> {
  const c = await database.owner.connect();
  try {
    await c.query('BEGIN');
    await c.query('ALTER TABLE tenants DISABLE TRIGGER tenants_notify_change');
    await c.query(`UPDATE tenants SET widget_settings = jsonb_set(widget_settings, '{theme}', to_jsonb($2::text)) WHERE slug = $1`, [slug, theme]);
    await c.query('ALTER TABLE tenants ENABLE TRIGGER tenants_notify_change');
    await c.query('COMMIT');
  } finally {
    c.release();
  }
}

describe('GET /v1/widget/:tenant/config: cache headers and conditional requests', () => {
  it('when a page asks for the config, then it gets a strong ETag, a CDN-friendly Cache-Control and Vary: Origin', async () => {
    const { slug } = await tenant();
    const res = await config(a.app, slug);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=600');
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(WidgetConfig.parse(res.body)).toMatchObject({ tenant: slug, calLink: 'clinic', defaultEvent: 'check-up' });
  });

  it('when the page already has the current copy, then If-None-Match gets a 304 without a body, with the validators', async () => {
    const { slug } = await tenant();
    const first = await config(a.app, slug);
    const again = await config(a.app, slug).set('If-None-Match', first.headers.etag!);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=600');
    expect(again.headers.vary).toMatch(/\bOrigin\b/);

    // A list, or the weak form a CDN may have turned it into, matches too (weak comparison, RFC 9110 §13.1.2).
    expect((await config(a.app, slug).set('If-None-Match', `"other", W/${first.headers.etag}`)).status).toBe(304);
    expect((await config(a.app, slug).set('If-None-Match', '"other"')).status).toBe(200);
  });

  it('when two instances serve the same tenant, then they answer the same bytes under the same ETag', async () => {
    const { slug } = await tenant();
    const fromA = await config(a.app, slug);
    const fromB = await config(b.app, slug);
    expect(fromB.headers.etag).toBe(fromA.headers.etag);
    expect(fromB.text).toBe(fromA.text);
    expect((await config(b.app, slug).set('If-None-Match', fromA.headers.etag!)).status).toBe(304);
  });

  it('when the config is answered from memory, then it has the headers of the first answer and is counted in the metrics', async () => {
    const { slug } = await tenant();
    const first = await config(b.app, slug); // a miss: the full app reads the database and fills the cache
    const second = await config(b.app, slug); // a page view answered before the router
    const comparable = (h: Record<string, unknown>) => {
      const { date: _d, 'x-request-id': _r, ...rest } = h;
      return rest;
    };
    expect(comparable(second.headers)).toEqual(comparable(first.headers));
    expect(second.headers['x-content-type-options']).toBe('nosniff');
    expect(second.text).toBe(first.text);

    const metrics = await request(b.app).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_http_requests_total\{method="GET",route="\/v1\/widget\/:tenant\/config",status="200"\} [2-9]/);
  });

  it('when another origin asks, then the same config comes without CORS headers', async () => {
    const { slug } = await tenant();
    const res = await request(a.app).get(`/v1/widget/${slug}/config`).set('Origin', 'https://elsewhere.test');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
  });
});

describe('the config cache across instances (LISTEN/NOTIFY)', () => {
  it('when a tenant is changed through one instance, then the other instance serves the change as soon as it hears of it', async () => {
    const { slug, id } = await tenant();
    const before = await config(b.app, slug);
    expect(before.body.theme).toBe('auto');

    // B really answers from memory: a change nobody announces does not reach it.
    await silentThemeChange(slug, 'light');
    expect((await config(b.app, slug)).body.theme).toBe('auto');

    const heard = nextChange(b, id);
    const patched = await request(a.app).patch(`/v1/admin/tenants/${slug}`).set(asAdmin).send({ widget: { theme: 'dark' } });
    expect(patched.status).toBe(200);
    expect(await heard).toMatchObject({ table: 'tenants', tenantId: id, slug });

    const after = await config(b.app, slug);
    expect(after.body.theme).toBe('dark');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect((await config(b.app, slug).set('If-None-Match', before.headers.etag!)).status).toBe(200);
    // The writer's own cache has it at once, without waiting for its NOTIFY.
    expect((await config(a.app, slug)).body.theme).toBe('dark');
  });

  it('when a tenant is created after its slug was asked for, then every instance finds it', async () => {
    const slug = `clinic-late-${++n}`;
    expect((await config(b.app, slug)).status).toBe(404);
    const heard = nextChange(b, (c) => c.slug === slug);
    const created = await request(a.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: 'Late', allowedOrigins: [ORIGIN], calLink: 'late/intro' });
    expect(created.status).toBe(201);
    expect((await heard).tenantId).toBe(created.body.id);
    expect((await config(b.app, slug)).status).toBe(200);
  });

  it('when the Cal.com connection changes status, then the published modes change on the other instance', async () => {
    const { slug, id } = await tenant();
    expect((await config(b.app, slug)).body.modes).not.toContain('native');
    const connected = nextChange(b, id);
    await connectCalcom(id);
    await connected;
    expect((await config(b.app, slug)).body.modes).toContain('native');

    const heard = nextChange(b, id);
    await database.owner.query(`UPDATE calcom_connections SET status = 'needs_reauth' WHERE tenant_id = $1`, [id]);
    expect(await heard).toMatchObject({ table: 'calcom_connections', tenantId: id });
    expect((await config(b.app, slug)).body.modes).not.toContain('native');
  });

  it("when the Cal.com connection changes, then a session minted on the other instance gets the new scopes, and a change of account alone is heard", async () => {
    const { slug, id } = await tenant();
    const mint = () => sessionScopes(b, slug);
    // B caches the connection's summary with its first session: none yet, so it may only observe.
    expect(await mint()).toEqual(['bookings:observe']);
    const connected = nextChange(b, id);
    await connectCalcom(id);
    await connected;
    expect(await mint()).toEqual(['bookings:observe', 'bookings:create']);
    // B really answers from memory: a status change nobody announces does not reach it.
    await database.owner.query('ALTER TABLE calcom_connections DISABLE TRIGGER calcom_connections_notify_update');
    try {
      await database.owner.query(`UPDATE calcom_connections SET status = 'needs_reauth' WHERE tenant_id = $1`, [id]);
      expect(await mint()).toEqual(['bookings:observe', 'bookings:create']);
      await database.owner.query(`UPDATE calcom_connections SET status = 'connected' WHERE tenant_id = $1`, [id]);
    } finally {
      await database.owner.query('ALTER TABLE calcom_connections ENABLE TRIGGER calcom_connections_notify_update');
    }

    // Another account on the same row, nothing else changed (migration 0022): heard, so the picker's cached account is dropped.
    const account = nextChange(b, id);
    await database.owner.query(`UPDATE calcom_connections SET calcom_username = 'clinic-two', calcom_user_id = 2 WHERE tenant_id = $1`, [id]);
    expect(await account).toMatchObject({ table: 'calcom_connections', tenantId: id });

    const lapsed = nextChange(b, id);
    await database.owner.query(`UPDATE calcom_connections SET status = 'needs_reauth' WHERE tenant_id = $1`, [id]);
    await lapsed;
    expect(await mint()).toEqual(['bookings:observe']);
  });

  it("when an instance disconnects a tenant's Cal.com account, then its own sessions stop offering bookings at once, before any NOTIFY", async () => {
    const { slug, id } = await tenant();
    const mint = () => sessionScopes(a, slug);
    const connected = nextChange(a, id);
    await connectCalcom(id);
    await connected;
    expect(await mint()).toEqual(['bookings:observe', 'bookings:create']);
    // No NOTIFY at all for this delete: only the writer's own announcement can reach its caches.
    await database.owner.query('ALTER TABLE calcom_connections DISABLE TRIGGER calcom_connections_notify_insert_delete');
    try {
      // Cal.com is offline here: removing our webhook fails, and the connection is forgotten anyway.
      expect((await request(a.app).delete(`/v1/admin/tenants/${slug}/calcom/oauth`).set(asAdmin)).status).toBe(200);
      expect(await mint()).toEqual(['bookings:observe']);
    } finally {
      await database.owner.query('ALTER TABLE calcom_connections ENABLE TRIGGER calcom_connections_notify_insert_delete');
    }
  });

  it('when the listener loses its connection, then it reconnects and the cache starts over (what was said meanwhile is lost)', async () => {
    const { slug } = await tenant();
    expect((await config(b.app, slug)).body.theme).toBe('auto');
    await silentThemeChange(slug, 'light');
    expect((await config(b.app, slug)).body.theme).toBe('auto');

    const reset = nextReset(b);
    await database.owner.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [CHANGES_APPLICATION_NAME]);
    await reset;
    // While it reconnects every request reads the database; once live, the cache fills again from fresh reads.
    expect((await config(b.app, slug)).body.theme).toBe('light');
    await b.changes.whenLive();
    expect(b.changes.live).toBe(true);
    expect((await config(b.app, slug)).body.theme).toBe('light');

    // And it hears changes again.
    const again = await tenant();
    await config(b.app, again.slug);
    const heard = nextChange(b, again.id);
    await request(a.app).patch(`/v1/admin/tenants/${again.slug}`).set(asAdmin).send({ widget: { theme: 'dark' } });
    await heard;
    expect((await config(b.app, again.slug)).body.theme).toBe('dark');
  });
});

describe('the tenant directory cache behind the admin API (LISTEN/NOTIFY)', () => {
  const adminRead = (app: Express, slug: string) => request(app).get(`/v1/admin/tenants/${slug}`).set(asAdmin);

  it('when a tenant is renamed through one instance, then that instance shows it at once and the other as soon as it hears of it', async () => {
    const { slug, id } = await tenant();
    expect((await adminRead(b.app, slug)).body.name).toBe('Clinic');
    // B resolves the tenant from memory: a change nobody announces does not reach its admin API either.
    await silentThemeChange(slug, 'light');
    expect((await adminRead(b.app, slug)).body.widget.theme).toBeUndefined();

    const heard = nextChange(b, id);
    const patched = await request(a.app).patch(`/v1/admin/tenants/${slug}`).set(asAdmin).send({ name: 'Clinic Renamed' });
    expect(patched.status).toBe(200);
    expect((await adminRead(a.app, slug)).body.name).toBe('Clinic Renamed');
    await heard;
    const after = await adminRead(b.app, slug);
    expect(after.body).toMatchObject({ name: 'Clinic Renamed', widget: { theme: 'light' } });
  });

  it('when an unknown slug was asked for and the tenant is then created, then every instance finds it', async () => {
    const slug = `clinic-admin-late-${++n}`;
    expect((await adminRead(b.app, slug)).body.code).toBe('tenant_not_found');
    const heard = nextChange(b, (c) => c.slug === slug);
    expect((await request(a.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: 'Late', allowedOrigins: [ORIGIN] })).status).toBe(201);
    expect((await adminRead(a.app, slug)).status).toBe(200);
    await heard;
    expect((await adminRead(b.app, slug)).status).toBe(200);
  });
});
