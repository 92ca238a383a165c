import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { DEFAULT_CONSENT } from '../widget/widget.service.js';

// Native booking (GET …/slots, POST …/bookings) behind the real widget-session verifier.
// Every refusal happens before Cal.com is called, so this runs offline; the booking itself
// is tested against the sandbox in calcom/calcom.sandbox.test.ts.

let t: TestApp;
const SHOP = 'https://shop.test';
const OTHER = 'https://other.test';

beforeAll(async () => {
  t = await createTestApp({ env: { CALCOM_APP_URL: 'https://cal.example.test', PUBLIC_URL: 'https://calbridge.test' } });
  for (const [slug, origins] of [['shop', [SHOP, 'https://www.shop.test', 'http://same.test']], ['other', [OTHER]]] as const) {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: origins, calLink: `${slug}/intro-call` });
    expect(res.status).toBe(201);
  }
});
afterAll(() => t.close());

async function mint(slug = 'shop', origin = SHOP): Promise<{ token: string; scopes: string[] }> {
  const res = await request(t.app)
    .post(`/v1/widget/${slug}/sessions`)
    .set('Origin', origin)
    .send({ consent: { version: DEFAULT_CONSENT('https://calbridge.test').version, purposes: ['booking'] }, context: { pageUrl: `${origin}/book`, referrer: '', utm: {} } });
  expect(res.status).toBe(201);
  return res.body;
}

const slots = (slug: string, origin: string | undefined, token: string | undefined) => {
  const r = request(t.app).get(`/v1/widget/${slug}/slots`).query({ eventType: 'intro-call', start: '2026-12-01T00:00:00Z', end: '2026-12-02T00:00:00Z', timeZone: 'UTC' });
  if (origin) r.set('Origin', origin);
  if (token) r.set('Authorization', `Bearer ${token}`);
  return r;
};

const book = (token: string | undefined) => {
  const r = request(t.app).post('/v1/widget/shop/bookings').set('Origin', SHOP).set('Idempotency-Key', 'click-0001-abcdef');
  if (token) r.set('Authorization', `Bearer ${token}`);
  return r.send({ eventType: 'intro-call', start: '2026-12-01T09:00:00Z', attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'UTC' } });
};

describe('native booking behind widget sessions', () => {
  it('when the tenant has no Cal.com connection, then its config does not offer native and its sessions cannot book', async () => {
    const config = await request(t.app).get('/v1/widget/shop/config').set('Origin', SHOP);
    expect(config.body.modes).not.toContain('native');
    expect((await mint()).scopes).toEqual(['bookings:observe']);
  });

  it('when a session without the booking scope asks for slots, then 403 session_scope_missing', async () => {
    const res = await slots('shop', SHOP, (await mint()).token);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_scope_missing');
  });

  it('when a session without the booking scope books, then 403 session_scope_missing', async () => {
    const res = await book((await mint()).token);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_scope_missing');
  });

  it('when no token is sent, then 401 session_missing', async () => {
    const res = await book(undefined);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('session_missing');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('when the token is forged, then 401 session_invalid', async () => {
    const [h, p] = (await mint()).token.split('.');
    const res = await slots('shop', SHOP, `${h}.${p}.${'A'.repeat(43)}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('session_invalid');
  });

  it('when the token has expired, then 401 session_expired', async () => {
    const { token } = await mint();
    t.clock.advance((t.config.sessionTtlSeconds + 1) * 1000);
    const res = await slots('shop', SHOP, token);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('session_expired');
  });

  it('when a token of another tenant is used, then 403 session_wrong_tenant', async () => {
    const res = await slots('other', OTHER, (await mint()).token);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_wrong_tenant');
  });

  it('when the token is used from another registered origin of the tenant, then 403 session_wrong_origin', async () => {
    const res = await slots('shop', 'https://www.shop.test', (await mint()).token);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_wrong_origin');
  });

  it('when the request comes from an origin the tenant did not register, then 403 origin_not_allowed', async () => {
    const res = await slots('shop', 'https://evil.test', (await mint()).token);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('origin_not_allowed');
  });

  it('when the widget served from its own origin asks for slots without Origin, then Sec-Fetch-Site same-origin stands for it', async () => {
    // Browsers send no Origin on a same-origin GET; the page origin is then this server's own.
    const { token } = await mint('shop', 'http://same.test');
    const res = await slots('shop', undefined, token).set('Host', 'same.test').set('Sec-Fetch-Site', 'same-origin');
    expect(res.body.code).toBe('session_scope_missing');
  });

  it('when a request has neither Origin nor a same-origin fetch, then 403 origin_not_allowed', async () => {
    const { token } = await mint('shop', 'http://same.test');
    const res = await slots('shop', undefined, token).set('Host', 'same.test').set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('origin_not_allowed');
  });

  it('when the tenant is unknown, then 404 tenant_not_found', async () => {
    const res = await slots('nobody', SHOP, (await mint()).token);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
  });

  it('when the widget preflights a booking, then CORS allows the Idempotency-Key header', async () => {
    const res = await request(t.app).options('/v1/widget/shop/bookings').set('Origin', SHOP).set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-headers']).toContain('Idempotency-Key');
  });
});
