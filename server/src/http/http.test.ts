import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { createDb, DEFAULT_DB_TIMEOUTS } from '../db/db.js';
import { asAdmin, asMetrics, capturingLogger, createTestApp, manualClock, offlineFetch, type TestApp } from '../test-support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

function expectProblem(res: request.Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: `urn:calbridge:problem:${code}` });
  expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
}

describe('HTTP basics', () => {
  it('when /healthz is asked, then the process answers ok', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('when the database is reachable and migrated, then /readyz answers 200', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('when a route does not exist, then a 404 problem with code not_found comes back', async () => {
    expectProblem(await request(t.app).get('/nope'), 404, 'not_found');
  });

  it('when the JSON body is broken, then 400 invalid_json', async () => {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).set('Content-Type', 'application/json').send('{"slug": ');
    expectProblem(res, 400, 'invalid_json');
  });

  it('when one problem type happens for two different reasons, then the title is the same and the detail says which', async () => {
    const minted = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ label: 'titles' });
    expect((await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'titles', name: 'Titles', allowedOrigins: [] })).status).toBe(201);
    const scoped = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'titles', label: 'titles scoped' });
    expect([minted.status, scoped.status]).toEqual([201, 201]);
    const asScoped = { Authorization: `Bearer ${scoped.body.token}` };
    const platformOnly = await request(t.app).post('/v1/admin/tenants').set(asScoped).send({ slug: 'nope', name: 'Nope', allowedOrigins: [] });
    const otherTenant = await request(t.app).get('/v1/admin/tenants/someone-else').set(asScoped);
    expectProblem(platformOnly, 403, 'forbidden');
    expectProblem(otherTenant, 403, 'forbidden');
    expect(platformOnly.body.title).toBe(otherTenant.body.title);
    expect(platformOnly.body.detail).not.toBe(otherTenant.body.detail);
    expect(platformOnly.body.title).not.toBe(platformOnly.body.detail);
  });

  it('when the body is larger than the limit, then 413 payload_too_large', async () => {
    const res = await request(t.app)
      .post('/v1/admin/tenants')
      .set(asAdmin)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ slug: 'big', name: 'x'.repeat(200_000), allowedOrigins: [] }));
    expectProblem(res, 413, 'payload_too_large');
  });

  it('when requests were served, then /metrics reports them by route pattern and status', async () => {
    await request(t.app).get('/v1/admin/tenants/some-slug').set(asAdmin);
    const res = await request(t.app).get('/metrics').set(asMetrics);
    expect(res.status).toBe(200);
    expect(res.text).toContain('calbridge_http_requests_total{method="GET",route="/healthz",status="200"}');
    expect(res.text).toContain('route="/v1/admin/tenants/:slug",status="404"');
    expect(res.text).toContain('calbridge_http_request_duration_seconds_bucket');
    expect(res.text).not.toContain('some-slug');
  });

  it('when requests were served, then log lines carry route patterns, never tokens or raw paths', async () => {
    await request(t.app).get('/v1/admin/tenants/private-slug').set(asAdmin);
    const logs = t.logLines.join('\n');
    expect(logs).toContain('"route":"/v1/admin/tenants/:slug"');
    expect(logs).not.toContain('private-slug');
    expect(logs).not.toContain(t.config.adminToken!);
  });
});

describe('readiness without a database', () => {
  it('when the database cannot be reached, then /readyz answers 503 and the process stays up', async () => {
    const db = createDb({ connectionString: 'postgres://nobody@127.0.0.1:1/none', timeouts: { ...DEFAULT_DB_TIMEOUTS, acquireMs: 500 } });
    const app = createApp({ config: t.config, db, fetch: offlineFetch, clock: manualClock(), logger: capturingLogger().logger });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'not_ready' });
    const admin = await request(app).get('/v1/admin/tenants').set(asAdmin);
    expectProblem(admin, 503, 'database_unavailable');
    await db.close();
  });
});
