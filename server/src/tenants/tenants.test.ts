import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const acme = { slug: 'acme', name: 'Acme Ltd', allowedOrigins: ['https://www.acme.test'], calLink: 'acme/intro-call', timeZone: 'Europe/London' };

async function createTenant(body: object = acme) {
  return request(t.app).post('/v1/admin/tenants').set(asAdmin).send(body);
}

async function scopedToken(slug: string): Promise<string> {
  const res = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: slug });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

describe('tenant admin API', () => {
  it('when an agency creates a tenant, then it is returned with its settings and no Cal.com connection yet', async () => {
    const res = await createTenant();
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/v1/admin/tenants/acme');
    expect(res.body).toMatchObject({ ...acme, calcom: { kind: 'none', status: 'disconnected', connectedAt: null } });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when the slug is taken, then 409 tenant_exists', async () => {
    const res = await createTenant();
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('tenant_exists');
  });

  it('when fields are wrong, then 400 invalid_request lists each failing field', async () => {
    const res = await createTenant({ slug: 'Bad Slug', name: '', allowedOrigins: ['https://x.test/path'], timeZone: 'Mars/Base' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.slug', 'body.name', 'body.allowedOrigins.0', 'body.timeZone']));
  });

  it('when a field is missing, then 400 invalid_request says it is required', async () => {
    const res = await createTenant({ slug: 'no-name', allowedOrigins: [] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({ path: 'body.name', message: 'required' });
  });

  it('when an unknown field is sent, then 400 invalid_request names it', async () => {
    const res = await createTenant({ ...acme, slug: 'typo', allowedOrigin: [] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
    expect(JSON.stringify(res.body.errors)).toContain('allowedOrigin');
  });

  it('when the body is not JSON at all, then 400 invalid_request, not a crash', async () => {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).set('Content-Type', 'text/plain').send('hello');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });

  it('when there is no token, then 401 unauthorized', async () => {
    const res = await request(t.app).get('/v1/admin/tenants');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('when the token is wrong, then 401 unauthorized', async () => {
    const res = await request(t.app).get('/v1/admin/tenants').set('Authorization', `Bearer cbt_${'x'.repeat(43)}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });

  it('when tenants are listed, then they come in pages with a cursor', async () => {
    await createTenant({ slug: 'beta', name: 'Beta', allowedOrigins: [] });
    await createTenant({ slug: 'gamma', name: 'Gamma', allowedOrigins: [] });
    const first = await request(t.app).get('/v1/admin/tenants?limit=2').set(asAdmin);
    expect(first.status).toBe(200);
    expect(first.body.data.map((x: { slug: string }) => x.slug)).toEqual(['acme', 'beta']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await request(t.app).get(`/v1/admin/tenants?limit=2&cursor=${first.body.nextCursor}`).set(asAdmin);
    expect(second.body.data.map((x: { slug: string }) => x.slug)).toEqual(['gamma']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('when a tenant is patched, then only the sent fields change', async () => {
    const res = await request(t.app).patch('/v1/admin/tenants/beta').set(asAdmin).send({ allowedOrigins: ['https://beta.test'] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ slug: 'beta', name: 'Beta', allowedOrigins: ['https://beta.test'] });
    const got = await request(t.app).get('/v1/admin/tenants/beta').set(asAdmin);
    expect(got.body.allowedOrigins).toEqual(['https://beta.test']);
  });

  it('when an unknown tenant is asked for, then 404 tenant_not_found', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/nobody').set(asAdmin);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
  });

  it('when a token scoped to one tenant asks for another, then 403 forbidden', async () => {
    const token = await scopedToken('acme');
    const res = await request(t.app).get('/v1/admin/tenants/beta').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('when a scoped token lists tenants, then it sees only its own', async () => {
    const token = await scopedToken('acme');
    const res = await request(t.app).get('/v1/admin/tenants').set('Authorization', `Bearer ${token}`);
    expect(res.body.data.map((x: { slug: string }) => x.slug)).toEqual(['acme']);
  });

  it('when a scoped token tries to create a tenant or an all-tenants token, then 403 forbidden', async () => {
    const token = await scopedToken('acme');
    const a = await request(t.app).post('/v1/admin/tenants').set('Authorization', `Bearer ${token}`).send({ slug: 'x', name: 'x', allowedOrigins: [] });
    expect(a.body.code).toBe('forbidden');
    const b = await request(t.app).post('/v1/admin/tokens').set('Authorization', `Bearer ${token}`).send({});
    expect(b.body.code).toBe('forbidden');
  });

  it('when a token is revoked, then it stops working', async () => {
    const created = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'acme', label: 'ci' });
    expect(created.body).toMatchObject({ tenant: 'acme', label: 'ci' });
    const auth = { Authorization: `Bearer ${created.body.token}` };
    expect((await request(t.app).get('/v1/admin/tenants/acme').set(auth)).status).toBe(200);
    expect((await request(t.app).delete(`/v1/admin/tokens/${created.body.id}`).set(asAdmin)).status).toBe(204);
    const after = await request(t.app).get('/v1/admin/tenants/acme').set(auth);
    expect(after.status).toBe(401);
  });

  it('when a token id is unknown, then 404 token_not_found', async () => {
    const res = await request(t.app).delete('/v1/admin/tokens/00000000-0000-4000-8000-000000000000').set(asAdmin);
    expect(res.body.code).toBe('token_not_found');
  });

  it('when tokens are created, then only their hashes are stored', async () => {
    const created = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({});
    const rows = await t.database.owner.query('SELECT token_hash::text AS h FROM admin_tokens');
    expect(JSON.stringify(rows.rows)).not.toContain(created.body.token);
  });
});

describe('webhook secrets', () => {
  it('when a secret is rotated, then the new one is shown once and the previous one still verifies during the grace period', async () => {
    const first = await request(t.app).post('/v1/admin/tenants/acme/webhook-secret').set(asAdmin);
    expect(first.status).toBe(201);
    expect(first.headers['cache-control']).toBe('no-store');
    const second = await request(t.app).post('/v1/admin/tenants/acme/webhook-secret').set(asAdmin);
    const tenant = (await request(t.app).get('/v1/admin/tenants/acme').set(asAdmin)).body;
    const { createTenantsService } = await import('./tenants.service.js');
    const { createKeyRing } = await import('../crypto/keyring.js');
    const service = createTenantsService({ db: t.database.db, keyring: createKeyRing(t.config.encryptionKeys), clock: t.clock, config: t.config });
    const valid = await t.database.db.withTenant(tenant.id, (tx) => service.webhookSecrets(tx, tenant.id));
    expect(valid).toEqual([second.body.secret, first.body.secret]);

    t.clock.advance((t.config.webhookSecretGraceSeconds + 1) * 1000);
    const later = await t.database.db.withTenant(tenant.id, (tx) => service.webhookSecrets(tx, tenant.id));
    expect(later).toEqual([second.body.secret]);
  });

  it('when secrets are stored through the API, then no plaintext secret is in the database', async () => {
    const res = await request(t.app).post('/v1/admin/tenants/gamma/webhook-secret').set(asAdmin);
    const { rows } = await t.database.owner.query('SELECT * FROM tenant_secrets');
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(res.body.secret);
    expect(t.logLines.join('\n')).not.toContain(res.body.secret);
  });
});
