import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing } from '../crypto/keyring.js';
import { asAdmin } from '../test-support/app.js';
import { connectWithOAuth, PUBLIC_URL, seedCalcomUser, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { upsertConnection } from './connections.repository.js';
import { SECRET_PURPOSE } from './token-vault.js';

// One Cal.com account, one tenant (decision 0034). Cal.com keeps one live refresh token per OAuth
// client and user (packages/features/oauth/repositories/OAuthRefreshTokenRepository.ts
// rotateTokenForUser), and the sandbox rotates the same way, so two tenants on one account would
// revoke each other's tokens at every refresh and share one user's bookings.

let database: TestDatabase;
let h: CalcomHarness;
let owner: { id: number; username: string; apiKey: string };

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database);
  for (const slug of ['holder', 'second', 'third', 'racer-a', 'racer-b']) {
    const res = await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: `${slug} Ltd`, allowedOrigins: [] });
    expect(res.status).toBe(201);
  }
  owner = seedCalcomUser(h, 'agency-owner');
  seedCalcomUser(h, 'third-owner');
  seedCalcomUser(h, 'racer-owner');
  expect((await connectWithOAuth(h, app(), 'holder', { as: owner.username })).callback.status).toBe(200);
  expect((await connectWithOAuth(h, app(), 'third', { as: 'third-owner' })).callback.status).toBe(200);
});
afterAll(async () => {
  await h.close();
  await database.drop();
});

const app = () => h.instances[0]!.app;

/** The tenant's connection row as stored (every column), or undefined. */
async function row(slug: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await database.owner.query('SELECT c.* FROM calcom_connections c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = $1', [slug]);
  return rows[0] as Record<string, unknown> | undefined;
}

/** Our webhooks registered on the Cal.com account, by the tenant their URL is for. */
async function webhookTenants(apiKey: string): Promise<string[]> {
  const res = await fetch(`${h.sandbox.apiUrl}/webhooks`, { headers: { authorization: `Bearer ${apiKey}` } });
  const hooks = ((await res.json()) as { data: { subscriberUrl: string }[] }).data;
  return hooks.map((w) => w.subscriberUrl.replace(`${PUBLIC_URL}/v1/webhooks/calcom/`, '')).sort();
}

/** Moves our clock past the access token's life, so the next call refreshes it. */
function accessTokenRunsOut(): void {
  h.clock.advance(29 * 60 * 1000);
}

describe('one Cal.com account is connected to one tenant at a time', () => {
  it('when a second tenant connects the Cal.com account another tenant holds, then the callback answers 409 calcom_account_in_use and stores nothing for it', async () => {
    const exchanges = h.sandbox.control.stats().codeExchanges;
    const { callback } = await connectWithOAuth(h, app(), 'second', { as: owner.username });
    expect(callback.status).toBe(409);
    expect(callback.headers['content-type']).toMatch(/^text\/html/);
    expect(callback.text).toContain('data-code="calcom_account_in_use"');
    expect(callback.text).toContain('already connected to another site in Calbridge');
    // Which tenant holds it is not ours to tell.
    expect(callback.text).not.toMatch(/holder/i);
    // Cal.com did give us tokens; we kept none of them, and registered no webhook for it.
    expect(h.sandbox.control.stats().codeExchanges).toBe(exchanges + 1);
    expect(await row('second')).toBeUndefined();
    const tenant = await request(app()).get('/v1/admin/tenants/second').set(asAdmin);
    expect(tenant.body.calcom).toEqual({ kind: 'none', status: 'disconnected', connectedAt: null });
    expect(await webhookTenants(owner.apiKey)).toEqual(['holder']);
  });

  it('when a second tenant connects the Cal.com account another tenant holds, then the tenant that holds it still refreshes its token', async () => {
    for (let round = 0; round < 2; round++) {
      const refreshes = h.sandbox.control.stats().tokenRefreshes;
      accessTokenRunsOut();
      // The refused tenant holds no token to refresh with (had it kept one, its refresh would have
      // deleted the holder's refresh token at Cal.com).
      const refused = await request(app()).post('/v1/admin/tenants/second/reconcile').set(asAdmin);
      expect(refused.body.code).toBe('calcom_not_connected');
      const res = await request(app()).post('/v1/admin/tenants/holder/reconcile').set(asAdmin);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(h.sandbox.control.stats().tokenRefreshes).toBe(refreshes + 1);
    }
    const tenant = await request(app()).get('/v1/admin/tenants/holder').set(asAdmin);
    expect(tenant.body.calcom).toMatchObject({ kind: 'oauth', status: 'connected' });
  });

  it('when a tenant connected to its own account tries an account another tenant holds, then its own connection is left exactly as it was', async () => {
    const before = await row('third');
    const { callback } = await connectWithOAuth(h, app(), 'third', { as: owner.username });
    expect(callback.status).toBe(409);
    expect(callback.text).toContain('data-code="calcom_account_in_use"');
    expect(await row('third')).toEqual(before);
    expect(await webhookTenants(owner.apiKey)).toEqual(['holder']);
  });

  it('when the tenant that holds the account connects it again, then it stays connected', async () => {
    const { callback } = await connectWithOAuth(h, app(), 'holder', { as: owner.username });
    expect(callback.status).toBe(200);
    expect(callback.text).toContain(`connected to Cal.com as ${owner.username}`);
    expect(await row('holder')).toMatchObject({ status: 'connected', calcom_user_id: String(owner.id) });
  });

  it('when two tenants finish connecting the same free account at the same moment, then exactly one of them gets it', async () => {
    // Both consents are given first, so both callbacks reach the database together.
    const flows = [];
    for (const slug of ['racer-a', 'racer-b']) {
      const start = await request(app()).get(`/v1/oauth/calcom/${slug}/start`).set(asAdmin).redirects(0);
      h.sandbox.control.setOAuthBehaviour({ username: 'racer-owner' });
      const consent = await fetch(start.headers.location!, { redirect: 'manual' }).finally(() => h.sandbox.control.setOAuthBehaviour({ username: 'demo' }));
      const cookie = ([] as string[]).concat(start.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-calbridge_oauth='))!.split(';')[0]!;
      flows.push({ slug, url: consent.headers.get('location')!.slice(PUBLIC_URL.length), cookie });
    }
    const answers = await Promise.all(flows.map((f) => request(app()).get(f.url).set('Cookie', f.cookie)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const loser = answers.find((a) => a.status === 409)!;
    expect(loser.text).toContain('data-code="calcom_account_in_use"');
    const rows = await Promise.all(flows.map((f) => row(f.slug)));
    expect(rows.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it('when the holder needs re-authorisation, then another tenant may connect that account, and the first tenant is then refused the same way', async () => {
    // Cal.com revokes the holder's refresh token: someone else refreshed with it (e.g. an answer we lost).
    const stored = await row('holder');
    const keyring = createKeyRing(h.config.encryptionKeys);
    const tokens = JSON.parse(keyring.decrypt(String(stored!.tokens_ciphertext), { tenantId: String(stored!.tenant_id), purpose: SECRET_PURPOSE.oauth })) as { r: string };
    const spent = await fetch(`${h.sandbox.apiUrl}/auth/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: h.config.calcom.oauthClientId!, client_secret: h.config.calcom.oauthClientSecret!, refresh_token: tokens.r }),
    });
    expect(spent.status).toBe(200);
    accessTokenRunsOut();
    const refused = await request(app()).post('/v1/admin/tenants/holder/reconcile').set(asAdmin);
    expect(refused.body.code).toBe('calcom_needs_reauth');
    // The admin API says why, for the console to tell the admin.
    expect((await request(app()).get('/v1/admin/tenants/holder').set(asAdmin)).body.calcom).toMatchObject({
      status: 'needs_reauth',
      reauthReason: expect.stringContaining('refresh_token_revoked'),
    });

    expect(await webhookTenants(owner.apiKey)).toEqual(['holder']);
    const taken = await connectWithOAuth(h, app(), 'second', { as: owner.username });
    expect(taken.callback.status).toBe(200);
    expect((await request(app()).get('/v1/admin/tenants/second').set(asAdmin)).body.calcom).toMatchObject({ kind: 'oauth', status: 'connected' });
    // The first holder's webhook would keep sending this account's bookings to its records: gone.
    expect(await webhookTenants(owner.apiKey)).toEqual(['second']);

    const holderBefore = await row('holder');
    const again = await connectWithOAuth(h, app(), 'holder', { as: owner.username });
    expect(again.callback.status).toBe(409);
    expect(again.callback.text).toContain('data-code="calcom_account_in_use"');
    expect(await row('holder')).toEqual(holderBefore);
    expect(holderBefore).toMatchObject({ status: 'needs_reauth' });
  });
});

describe('disconnecting an OAuth connection', () => {
  it('when an admin disconnects a tenant, then its webhook leaves the Cal.com account and another tenant may connect that account', async () => {
    const moving = seedCalcomUser(h, 'moving-owner');
    for (const slug of ['old-site', 'new-site']) expect((await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [] })).status).toBe(201);
    expect((await connectWithOAuth(h, app(), 'old-site', { as: moving.username })).callback.status).toBe(200);
    expect(await webhookTenants(moving.apiKey)).toEqual(['old-site']);
    expect((await connectWithOAuth(h, app(), 'new-site', { as: moving.username })).callback.status).toBe(409);

    const res = await request(app()).delete('/v1/admin/tenants/old-site/calcom/oauth').set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ webhookRemoved: true });
    expect(await webhookTenants(moving.apiKey)).toEqual([]);
    expect((await request(app()).get('/v1/admin/tenants/old-site').set(asAdmin)).body.calcom).toMatchObject({ kind: 'none', status: 'disconnected' });

    expect((await connectWithOAuth(h, app(), 'new-site', { as: moving.username })).callback.status).toBe(200);
    expect(await webhookTenants(moving.apiKey)).toEqual(['new-site']);
  });

  it('when the tenant has no OAuth connection, then disconnecting answers 409 calcom_not_connected', async () => {
    expect((await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'never-connected', name: 'Never', allowedOrigins: [] })).status).toBe(201);
    const res = await request(app()).delete('/v1/admin/tenants/never-connected/calcom/oauth').set(asAdmin);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('calcom_not_connected');
  });
});

describe('the connection store', () => {
  it('when the database refuses a connection for another reason, then that error is passed on, not called calcom_account_in_use', async () => {
    const { rows } = await database.owner.query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'racer-a'");
    const tenantId = rows[0]!.id;
    const attempt = h.instances[0]!.ctx.db.withTenant(tenantId, (tx) =>
      upsertConnection(tx, {
        tenantId,
        kind: 'oauth',
        calcomUserId: 999_999,
        calcomUsername: 'nobody',
        // Not a sealed box: the table's CHECK refuses it.
        tokensCiphertext: 'plaintext',
        keyId: 'k',
        accessExpiresAt: new Date(),
        refreshExpiresAt: null,
        now: new Date(),
      }),
    );
    await expect(attempt).rejects.toMatchObject({ code: '23514' });
  });
});
