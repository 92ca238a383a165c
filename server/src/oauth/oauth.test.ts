import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_API_KEY } from '../../../test/calcom-sandbox/index.js';
import { SECRET_PURPOSE } from '../calcom/token-vault.js';
import { createKeyRing } from '../crypto/keyring.js';
import { asAdmin, asMetrics, TEST_ADMIN_TOKEN } from '../test-support/app.js';
import { bindingCookieOf, connectWithOAuth, PUBLIC_URL, REDIRECT_URI, seedCalcomUser, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';

let database: TestDatabase;
let h: CalcomHarness;
const responses: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database);
  for (const slug of ['acme', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta']) {
    const res = await request(h.instances[0]!.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: `${slug} Ltd`, allowedOrigins: [] });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await h.close();
  await database.drop();
});

const app = () => h.instances[0]!.app;
const keep = (res: request.Response) => {
  responses.push(JSON.stringify({ headers: res.headers, body: res.text }));
  return res;
};

/** The tenant's tokens as stored, opened with the test's key ring. */
async function storedTokens(slug: string): Promise<{ a: string; r: string }> {
  const { rows } = await database.owner.query<{ tenant_id: string; kind: 'oauth' | 'managed_user'; tokens_ciphertext: string }>(
    'SELECT c.tenant_id, c.kind, c.tokens_ciphertext FROM calcom_connections c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = $1',
    [slug],
  );
  const row = rows[0]!;
  const keyring = createKeyRing(h.config.encryptionKeys);
  return JSON.parse(keyring.decrypt(row.tokens_ciphertext, { tenantId: row.tenant_id, purpose: SECRET_PURPOSE[row.kind] }));
}

async function databaseDump(): Promise<string> {
  const { rows: tables } = await database.owner.query<{ n: string }>(
    "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS n FROM information_schema.tables WHERE table_schema IN ('public', 'graphile_worker') AND table_type = 'BASE TABLE'",
  );
  const parts: string[] = [];
  for (const { n } of tables) parts.push(JSON.stringify((await database.owner.query(`SELECT * FROM ${n}`)).rows));
  return parts.join('\n');
}

describe('connecting a tenant with Cal.com OAuth', () => {
  it('when an admin starts, then Cal.com\'s authorize URL carries a state and the exact redirect URI and no PKCE (we are a confidential client)', async () => {
    const res = keep(await request(app()).get('/v1/oauth/calcom/acme/start').set(asAdmin).redirects(0));
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const url = new URL(res.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe(`${h.sandbox.appUrl}/auth/oauth2/authorize`);
    expect(url.searchParams.get('client_id')).toBe(h.config.calcom.oauthClientId);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(url.searchParams.has('code_challenge_method')).toBe(false);
    expect(url.searchParams.get('state')).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
  });

  it('when an admin starts, then the browser gets a __Host- cookie binding the state to it (Secure, HttpOnly, Path=/, SameSite=Lax)', async () => {
    const res = await request(app()).get('/v1/oauth/calcom/acme/start').set(asAdmin).redirects(0);
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-calbridge_oauth='))!;
    const attributes = cookie.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['secure', 'httponly', 'path=/', 'samesite=lax']));
    expect(attributes.some((a) => a.startsWith('domain='))).toBe(false);
    // It holds a hash of the state, never the state itself.
    const state = new URL(res.headers.location!).searchParams.get('state')!;
    expect(cookie).not.toContain(state.split('.')[1]!);
  });

  it('when there is no admin token, then start answers 401 unauthorized', async () => {
    const res = await request(app()).get('/v1/oauth/calcom/acme/start').redirects(0);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });

  it('when the admin approves, then the tenant is connected, says so on a page, and shows in the admin API', async () => {
    const { callback } = await connectWithOAuth(h, app(), 'acme');
    keep(callback);
    expect(callback.status).toBe(200);
    expect(callback.headers['content-type']).toMatch(/^text\/html/);
    expect(callback.text).toContain('acme Ltd is connected to Cal.com as demo');
    const tenant = keep(await request(app()).get('/v1/admin/tenants/acme').set(asAdmin));
    expect(tenant.body.calcom).toMatchObject({ kind: 'oauth', status: 'connected' });
    expect(Date.parse(tenant.body.calcom.connectedAt)).not.toBeNaN();
    expect(h.sandbox.control.stats().codeExchanges).toBe(1);
  });

  it('when connected, then a webhook at our intake URL with our booking triggers is registered at Cal.com', async () => {
    const res = await fetch(`${h.sandbox.apiUrl}/webhooks`, { headers: { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` } });
    const hooks = ((await res.json()) as { data: { subscriberUrl: string; triggers: string[]; active: boolean }[] }).data;
    const ours = hooks.filter((w) => w.subscriberUrl === `${PUBLIC_URL}/v1/webhooks/calcom/acme`);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.active).toBe(true);
    expect(ours[0]!.triggers).toEqual(expect.arrayContaining(['BOOKING_CREATED', 'BOOKING_CANCELLED', 'BOOKING_RESCHEDULED']));
  });

  it('when the webhook is repaired, then there is still exactly one for the tenant', async () => {
    const res = keep(await request(app()).post('/v1/admin/tenants/acme/calcom/webhook').set(asAdmin));
    expect(res.body).toEqual({ action: 'updated', removedDuplicates: 0 });
    const hooks = ((await (await fetch(`${h.sandbox.apiUrl}/webhooks`, { headers: { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` } })).json()) as {
      data: { subscriberUrl: string }[];
    }).data;
    expect(hooks.filter((w) => w.subscriberUrl.endsWith('/calcom/acme'))).toHaveLength(1);
  });

  it('when the exchange happens, then our server sends Cal.com the confidential shape only: no code_verifier (Cal.com would answer 400)', async () => {
    const before = h.sandbox.control.stats().codeExchanges;
    // Its own Cal.com account: acme holds the demo user, and one account serves one tenant (decision 0034).
    seedCalcomUser(h, 'eta-owner');
    const { callback } = await connectWithOAuth(h, app(), 'eta', { as: 'eta-owner' });
    // The sandbox refuses any confidential exchange carrying code_verifier or another unknown property,
    // so a 200 here means the body was exactly client_id, grant_type, code, redirect_uri, client_secret.
    expect(callback.status).toBe(200);
    expect(h.sandbox.control.stats().codeExchanges).toBe(before + 1);
  });

  it('when the callback comes from a browser that did not start the flow (no cookie), then a page with code oauth_state_browser_mismatch and the state still works for the real admin', async () => {
    const start = await request(app()).get('/v1/oauth/calcom/epsilon/start').set(asAdmin).redirects(0);
    seedCalcomUser(h, 'epsilon-owner');
    h.sandbox.control.setOAuthBehaviour({ username: 'epsilon-owner' });
    const consent = await fetch(start.headers.location!, { redirect: 'manual' }).finally(() => h.sandbox.control.setOAuthBehaviour({ username: 'demo' }));
    const back = consent.headers.get('location')!.slice(PUBLIC_URL.length);
    const exchanges = h.sandbox.control.stats().codeExchanges;
    const victim = keep(await request(app()).get(back));
    expect(victim.status).toBe(400);
    expect(victim.text).toContain('data-code="oauth_state_browser_mismatch"');
    const otherFlow = await request(app()).get('/v1/oauth/calcom/epsilon/start').set(asAdmin).redirects(0);
    const wrongCookie = keep(await request(app()).get(back).set('Cookie', bindingCookieOf(otherFlow)));
    expect(wrongCookie.text).toContain('data-code="oauth_state_browser_mismatch"');
    expect(h.sandbox.control.stats().codeExchanges).toBe(exchanges);
    const admin = await request(app()).get(back).set('Cookie', bindingCookieOf(start));
    expect(admin.status).toBe(200);
    expect(admin.text).toContain('connected to Cal.com');
  });

  it('when Cal.com refuses our client credentials at the token endpoint, then the page shows Cal.com\'s own error code, not calcom_unavailable', async () => {
    const start = await request(app()).get('/v1/oauth/calcom/zeta/start').set(asAdmin).redirects(0);
    const consent = await fetch(start.headers.location!, { redirect: 'manual' });
    const back = consent.headers.get('location')!.slice(PUBLIC_URL.length);
    // Cal.com rotated/forgot our secret: it now answers 401 invalid_client / invalid_client_credentials.
    const c = h.sandbox.control.oauthClient();
    h.sandbox.control.registerOAuthClient({ clientId: c.clientId, clientSecret: 'a-secret-we-do-not-have', redirectUris: c.redirectUris });
    try {
      const res = keep(await request(app()).get(back).set('Cookie', bindingCookieOf(start)));
      expect(res.text).toContain('data-code="calcom_oauth_invalid_client"');
      expect(res.text).toContain('invalid_client_credentials');
      expect(res.text).not.toContain('calcom_unavailable');
    } finally {
      h.sandbox.control.registerOAuthClient({ clientId: c.clientId, clientSecret: c.clientSecret!, redirectUris: c.redirectUris });
    }
  });

  it('when the same callback is replayed, then a page with code oauth_code_replayed and no second exchange', async () => {
    // beta is a different Cal.com account: Cal.com keeps one live refresh token per client and user
    // (OAuthRefreshTokenRepository.rotateTokenForUser), so one account serves one tenant (decision 0034).
    seedCalcomUser(h, 'beta-owner');
    const { start, callbackUrl } = await connectWithOAuth(h, app(), 'beta', { as: 'beta-owner' });
    const exchanges = h.sandbox.control.stats().codeExchanges;
    const replay = keep(await request(app()).get(callbackUrl).set('Cookie', bindingCookieOf(start)));
    expect(replay.status).toBe(400);
    expect(replay.headers['content-type']).toMatch(/^text\/html/);
    expect(replay.text).toContain('data-code="oauth_code_replayed"');
    expect(replay.text).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
    expect(h.sandbox.control.stats().codeExchanges).toBe(exchanges);
  });

  it('when the state is not one we issued, then a page with code oauth_state_invalid', async () => {
    const start = await request(app()).get('/v1/oauth/calcom/gamma/start').set(asAdmin).redirects(0);
    const state = new URL(start.headers.location!).searchParams.get('state')!;
    const forged = `${state.slice(0, 37)}${'A'.repeat(43)}`;
    const { browserBindingCookie } = await import('./oauth.service.js');
    const res = keep(await request(app()).get(`/v1/oauth/calcom/callback?code=abc&state=${encodeURIComponent(forged)}`).set('Cookie', browserBindingCookie(forged).split(';')[0]!));
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-code="oauth_state_invalid"');
  });

  it('when the state is missing or malformed, then a page with code oauth_state_invalid', async () => {
    const res = keep(await request(app()).get('/v1/oauth/calcom/callback?code=abc&state=nonsense'));
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-code="oauth_state_invalid"');
  });

  it('when the state is older than ten minutes, then a page with code oauth_state_expired', async () => {
    const start = await request(app()).get('/v1/oauth/calcom/gamma/start').set(asAdmin).redirects(0);
    const consent = await fetch(start.headers.location!, { redirect: 'manual' });
    h.clock.advance(11 * 60 * 1000);
    const res = keep(await request(app()).get(consent.headers.get('location')!.slice(PUBLIC_URL.length)).set('Cookie', bindingCookieOf(start)));
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-code="oauth_state_expired"');
  });

  it('when the admin denies consent on Cal.com, then a page with code oauth_consent_denied', async () => {
    h.sandbox.control.setOAuthBehaviour({ deny: true });
    try {
      const start = await request(app()).get('/v1/oauth/calcom/gamma/start').set(asAdmin).redirects(0);
      const consent = await fetch(start.headers.location!, { redirect: 'manual' });
      const res = keep(await request(app()).get(consent.headers.get('location')!.slice(PUBLIC_URL.length)).set('Cookie', bindingCookieOf(start)));
      expect(res.status).toBe(400);
      expect(res.text).toContain('data-code="oauth_consent_denied"');
    } finally {
      h.sandbox.control.setOAuthBehaviour({ deny: false });
    }
    const tenant = await request(app()).get('/v1/admin/tenants/gamma').set(asAdmin);
    expect(tenant.body.calcom).toEqual({ kind: 'none', status: 'disconnected', connectedAt: null });
  });

  it('when Cal.com refuses the code (already spent elsewhere), then a page with code oauth_code_rejected', async () => {
    // The code is spent first (a leaked code and our client secret); our exchange then meets invalid_grant.
    const start = await request(app()).get('/v1/oauth/calcom/gamma/start').set(asAdmin).redirects(0);
    const consent = await fetch(start.headers.location!, { redirect: 'manual' });
    const back = new URL(consent.headers.get('location')!);
    await fetch(`${h.sandbox.apiUrl}/auth/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: h.config.calcom.oauthClientId!, client_secret: h.config.calcom.oauthClientSecret!, code: back.searchParams.get('code')!, redirect_uri: REDIRECT_URI }),
    });
    const res = keep(await request(app()).get(`${back.pathname}${back.search}`).set('Cookie', bindingCookieOf(start)));
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-code="oauth_code_rejected"');
  });
});

describe('the token vault', () => {
  it('when the access token is about to expire, then one refresh rotates both tokens and the call goes through', async () => {
    const before = await storedTokens('acme');
    const refreshes = h.sandbox.control.stats().tokenRefreshes;
    h.clock.advance(29 * 60 * 1000);
    const res = keep(await request(app()).post('/v1/admin/tenants/acme/reconcile').set(asAdmin));
    expect(res.status).toBe(200);
    expect(h.sandbox.control.stats().tokenRefreshes).toBe(refreshes + 1);
    const after = await storedTokens('acme');
    expect(after.a).not.toBe(before.a);
    expect(after.r).not.toBe(before.r);
  });

  it('when a rotated refresh token is presented again, then Cal.com refuses it and the connection needs_reauth (API and metrics)', async () => {
    // Simulate an instance that kept the old refresh token: put it back, then let the vault use it.
    const burned = await storedTokens('beta');
    h.clock.advance(29 * 60 * 1000);
    expect((await request(app()).post('/v1/admin/tenants/beta/reconcile').set(asAdmin)).status).toBe(200);
    const { rows } = await database.owner.query<{ tenant_id: string }>("SELECT id AS tenant_id FROM tenants WHERE slug = 'beta'");
    const tenantId = rows[0]!.tenant_id;
    const sealed = createKeyRing(h.config.encryptionKeys).encrypt(JSON.stringify(burned), { tenantId, purpose: SECRET_PURPOSE.oauth });
    await database.owner.query("UPDATE calcom_connections SET tokens_ciphertext = $2, access_expires_at = now() - interval '1 minute' WHERE tenant_id = $1", [tenantId, sealed]);

    const res = keep(await request(app()).post('/v1/admin/tenants/beta/reconcile').set(asAdmin));
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('calcom_needs_reauth');
    const tenant = await request(app()).get('/v1/admin/tenants/beta').set(asAdmin);
    expect(tenant.body.calcom).toMatchObject({ kind: 'oauth', status: 'needs_reauth' });
    const metrics = await request(app()).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_calcom_connections_needs_reauth_total\{kind="oauth"\} 1/);
    expect(metrics.text).toMatch(/calbridge_calcom_token_refreshes_total\{kind="oauth",outcome="refused"\} 1/);
    // And nothing more is tried with it.
    const again = await request(app()).post('/v1/admin/tenants/beta/reconcile').set(asAdmin);
    expect(again.body.code).toBe('calcom_needs_reauth');
  });

  it('when a needs_reauth tenant connects again, then it is connected', async () => {
    const { callback } = await connectWithOAuth(h, app(), 'beta', { as: 'beta-owner' });
    expect(callback.status).toBe(200);
    const tenant = await request(app()).get('/v1/admin/tenants/beta').set(asAdmin);
    expect(tenant.body.calcom.status).toBe('connected');
  });
});

describe('managed users', () => {
  it('when an admin provisions a managed user, then the tenant is connected as managed_user with a webhook', async () => {
    const res = keep(await request(app()).post('/v1/admin/tenants/delta/calcom/managed-user').set(asAdmin).send({ timeZone: 'Europe/Paris' }));
    expect(res.status).toBe(201);
    expect(res.body.calcom).toMatchObject({ kind: 'managed_user', status: 'connected' });
    expect(res.body.managedUser.id).toEqual(expect.any(Number));
    const row = await database.owner.query("SELECT webhook_id FROM calcom_connections c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'delta'");
    // Cal.com's webhook ids are UUID strings (`model Webhook { id String @id }`).
    expect(row.rows[0].webhook_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('when it is provisioned twice, then 409 calcom_already_connected', async () => {
    const res = await request(app()).post('/v1/admin/tenants/delta/calcom/managed-user').set(asAdmin).send({});
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('calcom_already_connected');
  });

  it('when its access token expires, then the platform refresh endpoint rotates it once', async () => {
    const before = h.sandbox.control.stats().managedUserRefreshes;
    h.clock.advance(58 * 60 * 1000);
    const res = await request(app()).post('/v1/admin/tenants/delta/reconcile').set(asAdmin);
    expect(res.status).toBe(200);
    expect(h.sandbox.control.stats().managedUserRefreshes).toBe(before + 1);
  });

  it('when the answer to a refresh was lost (Cal.com rotated, we kept the old token), then force-refresh recovers the tenant instead of needs_reauth', async () => {
    // Cal.com deletes the previous refresh token on every refresh: spend ours behind our back, as a
    // refresh whose answer never reached us would.
    const stored = await storedTokens('delta');
    const spent = await fetch(`${h.sandbox.apiUrl}/oauth/${h.config.calcom.platformClientId}/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cal-secret-key': h.config.calcom.platformClientSecret! },
      body: JSON.stringify({ refreshToken: stored.r }),
    });
    expect(spent.status).toBe(200);
    h.clock.advance(58 * 60 * 1000);
    const res = await request(app()).post('/v1/admin/tenants/delta/reconcile').set(asAdmin);
    expect(res.status).toBe(200);
    const tenant = await request(app()).get('/v1/admin/tenants/delta').set(asAdmin);
    expect(tenant.body.calcom).toMatchObject({ kind: 'managed_user', status: 'connected' });
    const metrics = await request(app()).get('/metrics').set(asMetrics);
    expect(metrics.text).toMatch(/calbridge_calcom_token_refreshes_total\{kind="managed_user",outcome="forced"\} 1/);
    expect((await storedTokens('delta')).r).not.toBe(stored.r);
  });

  it('when it is deleted, then Cal.com forgets the user and the tenant is disconnected', async () => {
    const res = await request(app()).delete('/v1/admin/tenants/delta/calcom/managed-user').set(asAdmin);
    expect(res.status).toBe(204);
    const tenant = await request(app()).get('/v1/admin/tenants/delta').set(asAdmin);
    expect(tenant.body.calcom).toEqual({ kind: 'none', status: 'disconnected', connectedAt: null });
  });

  it('when a tenant without a managed user deletes one, then 409 calcom_not_connected', async () => {
    const res = await request(app()).delete('/v1/admin/tenants/gamma/calcom/managed-user').set(asAdmin);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('calcom_not_connected');
  });
});

describe('secrets stay secret', () => {
  it('when everything above ran, then no Cal.com token or client secret is in a log line, a response or the database in plaintext', async () => {
    const tokens = [await storedTokens('acme'), await storedTokens('beta')].flatMap((t) => [t.a, t.r]);
    const secrets = [...tokens, h.config.calcom.oauthClientSecret!, h.config.calcom.platformClientSecret!, TEST_ADMIN_TOKEN];
    const logs = h.instances.flatMap((i) => i.logLines).join('\n');
    const dump = await databaseDump();
    const sent = responses.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(dump).toContain('v1.');
    for (const s of secrets) {
      expect(logs.includes(s), 'a secret is in the logs').toBe(false);
      expect(sent.includes(s), 'a secret is in a response').toBe(false);
    }
    for (const s of tokens) expect(dump.includes(s), 'a token is in the database in plaintext').toBe(false);
  });
});
