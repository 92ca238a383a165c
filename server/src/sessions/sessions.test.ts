import { CreateSessionResponse, WidgetConfig } from '@calbridge/shared';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { consentTextHash, DEFAULT_CONSENT } from '../widget/widget.service.js';
import { truncateIp, userAgentFamily } from './client.js';
import { SESSION_LIMITS } from './sessions.service.js';

let t: TestApp;
const ACME = 'https://www.acme.test';
const BETA = 'https://beta.test';
const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

beforeAll(async () => {
  t = await createTestApp({ env: { CALCOM_APP_URL: 'https://cal.example.test', PUBLIC_URL: 'https://calbridge.test' } });
  for (const [slug, origin] of [['acme', ACME], ['beta', BETA], ['gamma', 'https://gamma.test']] as const) {
    const res = await request(t.app)
      .post('/v1/admin/tenants')
      .set(asAdmin)
      .send({ slug, name: slug, allowedOrigins: [origin], calLink: `${slug}/intro-call` });
    expect(res.status).toBe(201);
  }
});
afterAll(() => t.close());

const consent = DEFAULT_CONSENT('https://calbridge.test');
const sessionBody = (origin = ACME, purposes = ['booking']) => ({
  consent: { version: consent.version, purposes },
  context: { pageUrl: `${origin}/contact`, referrer: 'https://search.test', utm: { source: 'newsletter' } },
});

async function mint(slug = 'acme', origin = ACME, ip = '203.0.113.77', app = t.app) {
  return request(app)
    .post(`/v1/widget/${slug}/sessions`)
    .set('Origin', origin)
    .set('User-Agent', CHROME_UA)
    .set('X-Forwarded-For', ip)
    .send(sessionBody(origin));
}

const observe = (slug: string, origin: string | undefined, token: string | undefined, uid = 'bk_1') => {
  const r = request(t.app).post(`/v1/widget/${slug}/bookings/observed`);
  if (origin) r.set('Origin', origin);
  if (token) r.set('Authorization', `Bearer ${token}`);
  return r.send({ uid, startTime: '2026-12-01T09:00:00.000Z', endTime: '2026-12-01T09:30:00.000Z', eventTypeId: 7, eventType: 'intro-call', status: 'ACCEPTED' });
};

describe('GET /v1/widget/:tenant/config', () => {
  it('when a registered origin asks, then it gets the public config with CORS and cache headers', async () => {
    const res = await request(t.app).get('/v1/widget/acme/config').set('Origin', ACME);
    expect(res.status).toBe(200);
    expect(WidgetConfig.parse(res.body)).toMatchObject({ tenant: 'acme', calLink: 'acme', defaultEvent: 'intro-call', calOrigin: 'https://cal.example.test' });
    expect(res.headers['access-control-allow-origin']).toBe(ACME);
    expect(res.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=600');
    expect(res.headers.vary).toContain('Origin');
    expect(res.headers.etag).toBeTruthy();

    const again = await request(t.app).get('/v1/widget/acme/config').set('Origin', ACME).set('If-None-Match', res.headers.etag!);
    expect(again.status).toBe(304);
  });

  it('when an unregistered origin asks, then the answer carries no CORS header', async () => {
    const res = await request(t.app).get('/v1/widget/acme/config').set('Origin', 'https://evil.test');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when the preflight comes from an unregistered origin, then 403 origin_not_allowed', async () => {
    const ok = await request(t.app).options('/v1/widget/acme/sessions').set('Origin', ACME).set('Access-Control-Request-Method', 'POST');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-headers']).toContain('Authorization');
    const res = await request(t.app).options('/v1/widget/acme/sessions').set('Origin', 'https://evil.test').set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('origin_not_allowed');
  });

  it('when the tenant is unknown, then 404 tenant_not_found as problem+json', async () => {
    const res = await request(t.app).get('/v1/widget/nobody/config');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('tenant_not_found');
  });
});

describe('POST /v1/widget/:tenant/sessions', () => {
  it('when a visitor consents, then a receipt is stored with a truncated address and browser family, and a token is returned', async () => {
    const res = await mint();
    expect(res.status).toBe(201);
    const session = CreateSessionResponse.parse(res.body);
    expect(session.scopes).toEqual(['bookings:observe']);
    expect(new Date(session.expiresAt).getTime() - t.clock.now().getTime()).toBe(t.config.sessionTtlSeconds * 1000);

    const rows = await t.database.owner.query('SELECT * FROM consent_receipts WHERE id = $1', [session.consentReceiptId]);
    expect(rows.rows[0]).toMatchObject({
      session_id: session.sessionId,
      consent_version: consent.version,
      consent_text_sha256: consentTextHash(consent.text),
      purposes: ['booking'],
      page_origin: ACME,
      page_url: `${ACME}/contact`,
      utm: { source: 'newsletter' },
      user_agent_family: 'Chrome',
    });
    // Without trust proxy the socket address counts, never X-Forwarded-For; either way it is truncated.
    expect(rows.rows[0].ip_prefix).toMatch(/\/(24|48)$/);
    expect(JSON.stringify(rows.rows[0])).not.toContain(CHROME_UA);
  });

  it('when the widget sends its session request as a CORS simple request (JSON in a text/plain body), then the session is minted', async () => {
    const res = await request(t.app)
      .post('/v1/widget/acme/sessions')
      .set('Origin', ACME)
      .set('User-Agent', CHROME_UA)
      .set('Content-Type', 'text/plain;charset=UTF-8')
      .send(JSON.stringify(sessionBody(ACME)));
    expect(res.status).toBe(201);
    expect(res.headers['access-control-allow-origin']).toBe(ACME);
    expect(CreateSessionResponse.parse(res.body).scopes).toEqual(['bookings:observe']);
  });

  it('when another site posts a text/plain session request (no preflight to stop it), then 403 origin_not_allowed and nothing is stored', async () => {
    const before = await t.database.owner.query('SELECT count(*)::int AS n FROM consent_receipts');
    const res = await request(t.app)
      .post('/v1/widget/acme/sessions')
      .set('Origin', 'https://attacker.test')
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify(sessionBody(ACME)));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('origin_not_allowed');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const after = await t.database.owner.query('SELECT count(*)::int AS n FROM consent_receipts');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('when another route gets a JSON body as text/plain, then it is not read as JSON (only the session request is simple)', async () => {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).set('Content-Type', 'text/plain').send(JSON.stringify({ slug: 'plain', name: 'Plain', allowedOrigins: [ACME] }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });

  it('when the origin is not registered for the tenant, then 403 origin_not_allowed and nothing is stored', async () => {
    const before = await t.database.owner.query('SELECT count(*)::int AS n FROM consent_receipts');
    const res = await mint('acme', BETA);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('origin_not_allowed');
    const after = await t.database.owner.query('SELECT count(*)::int AS n FROM consent_receipts');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('when a required purpose is missing, then 400 consent_invalid', async () => {
    const res = await request(t.app).post('/v1/widget/acme/sessions').set('Origin', ACME).send(sessionBody(ACME, ['follow_up']));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('consent_invalid');
  });

  it('when the consent version is outdated, then 400 consent_invalid', async () => {
    const body = { ...sessionBody(), consent: { version: 'old', purposes: ['booking'] } };
    const res = await request(t.app).post('/v1/widget/acme/sessions').set('Origin', ACME).send(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('consent_invalid');
  });

  it('when the body has unknown fields, then 400 invalid_request', async () => {
    const res = await request(t.app).post('/v1/widget/acme/sessions').set('Origin', ACME).send({ ...sessionBody(), extra: true });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });

  it('when one address mints too many sessions in a window, then 429 rate_limited with Retry-After', async () => {
    t.clock.set('2026-11-25T11:00:05.000Z');
    for (let i = 0; i < SESSION_LIMITS.perAddress; i++) expect((await mint('gamma', 'https://gamma.test')).status).toBe(201);
    const res = await mint('gamma', 'https://gamma.test');
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
    expect(Number(res.headers['retry-after'])).toBe(55);
    // The counters live in Postgres, so another instance on the same database (and configuration) agrees.
    const keys = t.config.encryptionKeys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
    const other = await createTestApp({ database: t.database, env: { CALCOM_APP_URL: 'https://cal.example.test', CALBRIDGE_ENCRYPTION_KEYS: keys } });
    other.clock.set('2026-11-25T11:00:30.000Z');
    expect((await mint('gamma', 'https://gamma.test', undefined, other.app)).status).toBe(429);
    t.clock.set('2026-11-25T11:01:00.000Z');
    expect((await mint('gamma', 'https://gamma.test')).status).toBe(201);
  });
});

describe('POST /v1/widget/:tenant/bookings/observed', () => {
  let acmeToken: string;
  let acmeSession: { sessionId: string; consentReceiptId: string };
  beforeAll(async () => {
    t.clock.set('2026-11-25T12:00:00.000Z');
    const res = await mint('acme', ACME, '198.51.100.1');
    acmeToken = res.body.token;
    acmeSession = res.body;
  });

  it('when the session is valid, then the report is kept once as a hint under the session', async () => {
    const res = await observe('acme', ACME, acmeToken, 'bk_link');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ uid: 'bk_link', sessionId: acmeSession.sessionId, consentReceiptId: acmeSession.consentReceiptId });
    const again = await observe('acme', ACME, acmeToken, 'bk_link');
    expect(again.status).toBe(200);
    const rows = await t.database.owner.query('SELECT * FROM observed_bookings WHERE uid = $1', ['bk_link']);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({ consent_receipt_id: acmeSession.consentReceiptId, event_type_id: 7, event_type: 'intro-call' });
  });

  it('when no token is sent, then 401 session_missing', async () => {
    const res = await observe('acme', ACME, undefined);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('session_missing');
  });

  it('when the token is forged, then 401 session_invalid', async () => {
    const [h, p] = acmeToken.split('.');
    const res = await observe('acme', ACME, `${h}.${p}.${'A'.repeat(43)}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('session_invalid');
  });

  it('when the token has expired, then 401 session_expired', async () => {
    t.clock.advance((t.config.sessionTtlSeconds + 1) * 1000);
    try {
      const res = await observe('acme', ACME, acmeToken);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('session_expired');
    } finally {
      t.clock.set('2026-11-25T12:00:00.000Z');
    }
  });

  it('when a token is replayed for another tenant, then 403 session_wrong_tenant', async () => {
    const res = await observe('beta', BETA, acmeToken);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_wrong_tenant');
  });

  it('when a token is replayed from another registered origin of the tenant, then 403 session_wrong_origin', async () => {
    await request(t.app).patch('/v1/admin/tenants/acme').set(asAdmin).send({ allowedOrigins: [ACME, 'https://shop.acme.test'] });
    const res = await observe('acme', 'https://shop.acme.test', acmeToken);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_wrong_origin');
  });

  it('when the request comes from an origin the tenant did not register, then 403 origin_not_allowed', async () => {
    const res = await observe('acme', 'https://evil.test', acmeToken);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('origin_not_allowed');
  });

  it('when the tenant is unknown, then 404 tenant_not_found', async () => {
    const res = await observe('nobody', ACME, acmeToken);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
  });
});

describe('client details kept in receipts', () => {
  it('truncates IPv4 to /24 and IPv6 to /48', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0/24');
    expect(truncateIp('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
    expect(truncateIp('2001:db8:abcd:12:1:2:3:4')).toBe('2001:db8:abcd::/48');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(truncateIp('garbage')).toBe('unknown');
  });

  it('keeps only the browser family of a user agent', () => {
    expect(userAgentFamily(CHROME_UA)).toBe('Chrome');
    expect(userAgentFamily('Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15')).toBe('Safari');
    expect(userAgentFamily('Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('Firefox');
    expect(userAgentFamily(undefined)).toBe('unknown');
  });
});
