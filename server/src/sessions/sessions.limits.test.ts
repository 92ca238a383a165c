import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { DEFAULT_CONSENT } from '../widget/widget.service.js';
import { hitAddressThenTenant, hitAddressThenTenantOpening, type SessionCounts } from './sessions.repository.js';
import { OBSERVED_PER_SESSION, SESSION_LIMITS } from './sessions.service.js';

// Issue 13, findings 2 and 3: one actor cannot lock a tenant's widget for everyone, and one
// session cannot flood the observed reports.

interface Vector {
  class: string;
  description: string;
  exhaust: string;
  probe: string;
  expected: { status: number; code?: string };
}
const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/address-limit-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

const ORIGIN = 'https://www.acme.test';
let t: TestApp;
const version = DEFAULT_CONSENT('https://calbridge.test').version;

beforeAll(async () => {
  // Behind a reverse proxy: the client address is the one X-Forwarded-For names.
  t = await createTestApp({ env: { PUBLIC_URL: 'https://calbridge.test', CALBRIDGE_TRUST_PROXY: 'true' } });
  const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'acme', name: 'Acme', allowedOrigins: [ORIGIN], calLink: 'acme/intro' });
  expect(res.status).toBe(201);
});
afterAll(() => t.close());

const mint = (ip: string) =>
  request(t.app)
    .post('/v1/widget/acme/sessions')
    .set('Origin', ORIGIN)
    .set('X-Forwarded-For', ip)
    .send({ nonce: randomBytes(32).toString('base64url'), consent: { version, purposes: ['booking'] }, context: { pageUrl: `${ORIGIN}/`, referrer: '', utm: {} } });

let minute = 0;
/** Each case in its own rate-limit window, so cases never share counters. */
function nextWindow() {
  t.clock.set(new Date(Date.UTC(2026, 11, 1, 8, ++minute, 5)));
}

describe('session limits per client address (finding 2)', () => {
  it.each(vectors.map((v) => [`${v.class}: ${v.description}`, v] as const))('when one address is throttled and %s asks, then it is answered by its own budget', async (_n, v) => {
    nextWindow();
    for (let i = 0; i < SESSION_LIMITS.perAddress; i++) expect((await mint(v.exhaust)).status).toBe(201);
    expect((await mint(v.exhaust)).status).toBe(429);
    const res = await mint(v.probe);
    expect(res.status).toBe(v.expected.status);
    if (v.expected.code) expect(res.body.code).toBe(v.expected.code);
  });

  it('when 32 addresses each mint past their limit, then a visitor from another address still gets a session', async () => {
    nextWindow();
    for (let a = 1; a <= 32; a++) {
      const ip = `192.0.2.${a}`;
      for (let i = 0; i < SESSION_LIMITS.perAddress; i++) expect((await mint(ip)).status).toBe(201);
      for (let i = 0; i < 5; i++) expect((await mint(ip)).status).toBe(429);
    }
    const visitor = await mint('198.51.100.200');
    expect(visitor.status).toBe(201);
  });

  it('when the rate-limit table is read, then it holds no client address', async () => {
    const { rows } = await t.database.owner.query<{ bucket: string }>('SELECT bucket FROM widget_rate_limits');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.bucket).join(' ')).not.toMatch(/\d+\.\d+\.\d+\.\d+|2001:db8/);
  });
});

describe('observed reports per session (finding 3)', () => {
  it('when one session reports more bookings than a visitor makes, then 429 observed_limit_reached, and a repeat stores nothing', async () => {
    nextWindow();
    const s = await mint('198.51.100.201');
    const observe = (uid: string) =>
      request(t.app).post('/v1/widget/acme/bookings/observed').set('Origin', ORIGIN).set('Authorization', `Bearer ${s.body.token}`).send({ uid });
    for (let i = 0; i < OBSERVED_PER_SESSION; i++) expect((await observe(`bk-flood-${i}`)).status).toBe(201);
    expect((await observe('bk-flood-0')).status).toBe(200);
    const refused = await observe('bk-flood-extra');
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('observed_limit_reached');
    const { rows } = await t.database.owner.query('SELECT count(*)::int AS n FROM observed_bookings WHERE session_id = $1', [s.body.sessionId]);
    expect(rows[0].n).toBe(OBSERVED_PER_SESSION);
  });
});

describe('the client address behind a proxy (finding 2)', () => {
  it("when an address is over its limit, then its further requests no longer count against the tenant's limit", async () => {
    const { rows } = await t.database.owner.query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'acme'");
    const tenantId = rows[0]!.id;
    const window = new Date(Date.UTC(2026, 11, 1, 9, 0, 0));
    const count = (bucket: string) => t.database.db.withTenant(tenantId, (tx) => hitAddressThenTenant(tx, tenantId, bucket, window, 2));
    expect(await count('addr:a')).toEqual({ address: 1, tenant: 1 });
    expect(await count('addr:a')).toEqual({ address: 2, tenant: 2 });
    expect(await count('addr:a')).toEqual({ address: 3, tenant: null });
    expect(await count('addr:a')).toEqual({ address: 4, tenant: null });
    expect(await count('addr:b')).toEqual({ address: 1, tenant: 3 });
    // A window an hour older than the current one is pruned by the next count.
    const old = new Date(window.getTime() - 3_600_001 - 60_000);
    await t.database.db.withTenant(tenantId, (tx) => hitAddressThenTenant(tx, tenantId, 'addr:a', old, 2));
    await count('addr:c');
    const left = await t.database.owner.query('SELECT count(*)::int AS n FROM widget_rate_limits WHERE tenant_id = $1 AND window_start = $2', [tenantId, old]);
    expect(left.rows[0].n).toBe(0);
  });

  it('when the counts ride in the transaction opening (values written in as literals), then they count as the statement does, whatever the bucket holds', async () => {
    const { rows } = await t.database.owner.query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'acme'");
    const tenantId = rows[0]!.id;
    const window = new Date(Date.UTC(2026, 11, 1, 10, 0, 0));
    const odd = "addr:x'); DELETE FROM widget_rate_limits; --";
    const viaOpening = () =>
      t.database.db.withTenant(tenantId, async (_tx, opened) => opened![0]!.rows[0] as SessionCounts, hitAddressThenTenantOpening(tenantId, odd, window, 1));
    expect(await viaOpening()).toEqual({ address: 1, tenant: 1 });
    expect(await t.database.db.withTenant(tenantId, (tx) => hitAddressThenTenant(tx, tenantId, odd, window, 1))).toEqual({ address: 2, tenant: null });
    expect(await viaOpening()).toEqual({ address: 3, tenant: null });
    const kept = await t.database.owner.query('SELECT bucket FROM widget_rate_limits WHERE tenant_id = $1 AND window_start = $2 ORDER BY bucket', [tenantId, window]);
    expect(kept.rows.map((r) => r.bucket)).toEqual([odd, 'tenant']);
  });

  it('when a client writes its own X-Forwarded-For entries, then the address our proxy appended is the one counted', async () => {
    nextWindow();
    // The proxy appends the address it saw (198.51.100.210); everything left of it is the client's own writing.
    const forged = (i: number) => `10.9.${i}.1, 198.51.100.210`;
    for (let i = 0; i < SESSION_LIMITS.perAddress; i++) expect((await mint(forged(i))).status).toBe(201);
    const res = await mint(forged(99));
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
  });
});
