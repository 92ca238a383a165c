import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIdp, type DevIdp } from '@calbridge/dev-idp';
import { asAdmin, createTestApp, rawBody, type TestApp } from '../test-support/app.js';
import { signIn, SignInRefused } from './console.test-support.js';

const PUBLIC_URL = 'http://console.test:8787';
const ORIGIN = PUBLIC_URL;
const password = randomBytes(12).toString('base64url');
let idp: DevIdp;
let t: TestApp;
let adminDir: string | undefined;
const CONSOLE_SCRIPT = Buffer.from(`export const app = ${JSON.stringify('console '.repeat(200))};\n`);

beforeAll(async () => {
  idp = await startDevIdp({
    port: 0,
    password,
    clientId: 'calbridge-console',
    clientSecret: 'dev-secret-for-this-test-only',
    redirectUris: [`${PUBLIC_URL}/admin/callback`],
    postLogoutRedirectUris: [`${PUBLIC_URL}/admin/signed-out`],
    people: [{ sub: 'dev-nobody', email: 'nobody@demo.test', name: 'No Role', groups: ['marketing'] }, { sub: 'dev-viewer', email: 'viewer@demo.test', name: 'Viewer', groups: ['calbridge:tenant:demo:viewer'] }],
  });
  // A stand-in for the built console (admin/dist), so this test does not depend on a build.
  adminDir = mkdtempSync(join(tmpdir(), 'calbridge-admin-'));
  writeFileSync(join(adminDir, 'index.html'), '<!doctype html><title>Calbridge console</title><cb-admin-app></cb-admin-app>');
  // A hashed script with its brotli copy, as the build writes them (scripts/vite-precompress.mjs).
  mkdirSync(join(adminDir, 'assets'));
  writeFileSync(join(adminDir, 'assets', 'index-AbCd1234.js'), CONSOLE_SCRIPT);
  writeFileSync(join(adminDir, 'assets', 'index-AbCd1234.js.br'), brotliCompressSync(CONSOLE_SCRIPT));
  t = await createTestApp({
    fetch: globalThis.fetch,
    env: {
      PUBLIC_URL,
      CALBRIDGE_OIDC_ISSUER: idp.issuer,
      CALBRIDGE_OIDC_CLIENT_ID: 'calbridge-console',
      CALBRIDGE_OIDC_CLIENT_SECRET: 'dev-secret-for-this-test-only',
      CALBRIDGE_CONSOLE_IDLE_SECONDS: '600',
      CALBRIDGE_ADMIN_DIR: adminDir,
    },
  });
  for (const slug of ['demo', 'other']) {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: ['https://site.test'] });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
  await idp?.close();
  if (adminDir) rmSync(adminDir, { recursive: true, force: true });
});

describe('admin console sign-in through OpenID Connect', () => {
  it('when the admin signs in through the IdP, then the session cookie is __Host-, HttpOnly, Secure and SameSite=Lax, and it opens every tenant', async () => {
    const s = await signIn(t.app, 'admin@demo.test', password);
    expect(s.setCookie).toMatch(/^__Host-calbridge_admin=[A-Za-z0-9_-]{40,}; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$/);
    const me = await request(t.app).get('/admin/session').set('Cookie', s.cookie);
    expect(me.body).toMatchObject({ subject: 'dev-admin', roles: ['calbridge:admin'], access: { admin: true } });
    expect(JSON.stringify(me.body)).not.toContain('admin@demo.test');
    const list = await request(t.app).get('/v1/admin/tenants').set('Cookie', s.cookie);
    expect(list.status).toBe(200);
    expect(list.body.data.map((x: { slug: string }) => x.slug)).toEqual(['demo', 'other']);
  });

  it('when the manager of demo signs in, then they see demo only, and another tenant by URL is forbidden', async () => {
    const s = await signIn(t.app, 'manager@demo.test', password);
    const list = await request(t.app).get('/v1/admin/tenants').set('Cookie', s.cookie);
    expect(list.body.data.map((x: { slug: string }) => x.slug)).toEqual(['demo']);
    const other = await request(t.app).get('/v1/admin/tenants/other').set('Cookie', s.cookie);
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('forbidden');
    const create = await request(t.app).post('/v1/admin/tenants').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken }).send({ slug: 'mine', name: 'x', allowedOrigins: [] });
    expect(create.status).toBe(403);
    expect(create.body.code).toBe('forbidden');
    const own = await request(t.app).patch('/v1/admin/tenants/demo').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken }).send({ name: 'Demo, renamed' });
    expect(own.status).toBe(200);
  });

  it('when a viewer of demo changes something, then it is forbidden', async () => {
    const s = await signIn(t.app, 'viewer@demo.test', password);
    expect((await request(t.app).get('/v1/admin/tenants/demo').set('Cookie', s.cookie)).status).toBe(200);
    const res = await request(t.app).patch('/v1/admin/tenants/demo').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken }).send({ name: 'no' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('when a person without a Calbridge role signs in, then no session is opened (no_console_role)', async () => {
    const err = await signIn(t.app, 'nobody@demo.test', password).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignInRefused);
    expect((err as SignInRefused).status).toBe(403);
    expect((err as SignInRefused).body).toContain('no Calbridge role');
  });

  it('when the password is wrong, then the IdP shows the form again with an alert', async () => {
    const err = await signIn(t.app, 'admin@demo.test', 'wrong-password').catch((e: unknown) => e);
    expect((err as SignInRefused).status).toBe(401);
    expect((err as SignInRefused).body).toContain('role="alert"');
  });

  it('when the callback comes without the browser that started the sign-in, then it is refused (sign_in_failed)', async () => {
    const res = await request(t.app).get('/admin/callback?code=abc&state=xyz');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Sign-in failed');
  });
});

describe('admin console CSRF', () => {
  it('when a state-changing request carries the cookie but comes from another site, then it is refused (csrf_rejected)', async () => {
    const s = await signIn(t.app, 'admin@demo.test', password);
    const res = await request(t.app).post('/v1/admin/tenants').set({ Cookie: s.cookie, Origin: 'https://evil.test', 'X-CSRF-Token': s.csrfToken }).send({ slug: 'evil', name: 'x', allowedOrigins: [] });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('csrf_rejected');
  });

  it('when a state-changing request has our Origin but no CSRF token, then it is refused (csrf_rejected)', async () => {
    const s = await signIn(t.app, 'admin@demo.test', password);
    const res = await request(t.app).post('/v1/admin/tenants').set({ Cookie: s.cookie, Origin: ORIGIN }).send({ slug: 'evil', name: 'x', allowedOrigins: [] });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('csrf_rejected');
  });

  it('when the console creates a tenant with Origin and token, then it is created and the audit log names the person by subject', async () => {
    const s = await signIn(t.app, 'admin@demo.test', password);
    const res = await request(t.app).post('/v1/admin/tenants').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken }).send({ slug: 'audited', name: 'Audited', allowedOrigins: [] });
    expect(res.status).toBe(201);
    const patched = await request(t.app).patch('/v1/admin/tenants/audited').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken }).send({ name: 'Audited 2' });
    expect(patched.status).toBe(200);
    await expect.poll(async () => (await request(t.app).get('/v1/admin/tenants/audited/console-audit').set(asAdmin)).body.data).toEqual([
      expect.objectContaining({ subject: 'dev-admin', method: 'PATCH', route: '/v1/admin/tenants/:slug', status: 200 }),
    ]);
    const directory = await t.database.owner.query("SELECT subject, method, route, status FROM console_audit_log WHERE tenant_id IS NULL AND route = '/v1/admin/tenants'");
    expect(directory.rows).toContainEqual({ subject: 'dev-admin', method: 'POST', route: '/v1/admin/tenants', status: 201 });
  });

  it('when a GDPR erasure is made from the console, then the GDPR audit log says console_session and the subject id', async () => {
    const s = await signIn(t.app, 'manager@demo.test', password);
    const res = await request(t.app).delete('/v1/admin/tenants/demo/subjects/someone%40example.com').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken });
    expect(res.status).toBe(200);
    const audit = await request(t.app).get('/v1/admin/tenants/demo/audit').set(asAdmin);
    expect(audit.body.data[0]).toMatchObject({ action: 'subject.erase', actor: { kind: 'console_session', subject: 'dev-manager' } });
    const rows = await t.database.owner.query("SELECT route FROM console_audit_log WHERE subject = 'dev-manager' AND method = 'DELETE'");
    await expect.poll(async () => (await t.database.owner.query("SELECT route FROM console_audit_log WHERE subject = 'dev-manager' AND method = 'DELETE'")).rows).toEqual([
      { route: '/v1/admin/tenants/:slug/subjects/:email' },
    ]);
    expect(JSON.stringify(rows.rows)).not.toContain('example.com');
  });
});

describe('admin console session lifetime and sign-out', () => {
  it('when the person is idle longer than CALBRIDGE_CONSOLE_IDLE_SECONDS, then the session no longer works', async () => {
    const s = await signIn(t.app, 'admin@demo.test', password);
    t.clock.advance(601_000);
    const res = await request(t.app).get('/v1/admin/tenants').set('Cookie', s.cookie);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });

  it('when the person signs out, then the session ends and the browser goes to the IdP end-session endpoint with an id_token_hint', async () => {
    const s = await signIn(t.app, 'admin@demo.test', password);
    const out = await request(t.app).post('/admin/logout').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken });
    expect(out.status).toBe(200);
    const redirect = new URL(out.body.redirect);
    expect(redirect.origin).toBe(new URL(idp.issuer).origin);
    expect(redirect.searchParams.get('post_logout_redirect_uri')).toBe(`${PUBLIC_URL}/admin/signed-out`);
    expect(redirect.searchParams.get('id_token_hint')).toBeTruthy();
    expect(String(out.headers['set-cookie'])).toContain('__Host-calbridge_admin=; Path=/; Max-Age=0');
    const after = await request(t.app).get('/v1/admin/tenants').set('Cookie', s.cookie);
    expect(after.status).toBe(401);
    // The IdP accepts the hint and shows its own sign-out page.
    const idpPage = await fetch(redirect, { headers: { cookie: s.idpJar.header() } });
    expect(idpPage.status).toBe(200);
    expect(await idpPage.text()).toContain('Sign out');
  });

  it('when sign-out is posted from another site, then it is refused (csrf_rejected)', async () => {
    const s = await signIn(t.app, 'admin@demo.test', password);
    const out = await request(t.app).post('/admin/logout').set({ Cookie: s.cookie, Origin: 'https://evil.test' });
    expect(out.status).toBe(403);
    expect(out.body.code).toBe('csrf_rejected');
  });

  it('when bearer tokens are used, then the admin API works as before without any CSRF token', async () => {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'bearer', name: 'Bearer', allowedOrigins: [] });
    expect(res.status).toBe(201);
  });
});

describe('the console page', () => {
  it('when /admin is opened, then the app shell comes with a CSP that allows no inline script or style and no framing', async () => {
    const res = await request(t.app).get('/admin/tenants/demo/bookings');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<cb-admin-app>');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('when the session is asked for without a cookie, then 401 with where to sign in', async () => {
    const res = await request(t.app).get('/admin/session');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', signIn: '/admin/login' });
  });

  it('when a sign-in asks to return to another site, then it returns to the console instead', async () => {
    const { safeReturnTo } = await import('./console.service.js');
    expect(safeReturnTo('https://evil.test/admin')).toBe('/admin/');
    expect(safeReturnTo('//evil.test/admin')).toBe('/admin/');
    expect(safeReturnTo('/admin//evil.test')).toBe('/admin/');
    expect(safeReturnTo('/admin/tenants/demo/privacy')).toBe('/admin/tenants/demo/privacy');
  });
});

describe('what the console leaves in logs', () => {
  it('when people sign in and act, then no log line holds their email, their session cookie or their CSRF token', async () => {
    const s = await signIn(t.app, 'manager@demo.test', password);
    await request(t.app).patch('/v1/admin/tenants/demo').set({ Cookie: s.cookie, Origin: ORIGIN, 'X-CSRF-Token': s.csrfToken }).send({ name: 'Demo, again' });
    const all = t.logLines.join('\n');
    expect(all).toContain('console sign-in');
    expect(all).not.toContain('@demo.test');
    expect(all).not.toContain(s.cookie.split('=')[1]!);
    expect(all).not.toContain(s.csrfToken);
  });
});

describe("the console's built files", () => {
  it("when a browser that accepts brotli loads a console script, then it gets the brotli copy, with the console's policy and a year's immutable caching", async () => {
    const res = await request(t.app)
      .get('/admin/assets/index-AbCd1234.js')
      .set('Accept-Encoding', 'gzip, deflate, br')
      .buffer(true)
      .parse(rawBody);
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['vary']).toMatch(/Accept-Encoding/i);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // The same policy as the file sent as it is.
    const plain = await request(t.app).get('/admin/assets/index-AbCd1234.js').set('Accept-Encoding', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBe(plain.headers['content-security-policy']);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    // supertest decodes the brotli body it received: the console's own script.
    expect((res.body as Buffer).equals(CONSOLE_SCRIPT)).toBe(true);
  });
});
