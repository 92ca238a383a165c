import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';

// One gate authorises every /v1/admin/tenants/:slug/… route (admin.auth.ts, mounted once in
// app.ts). This walks the routes the app really has, so a route added later is walked too.

let t: TestApp;
let foreignToken = '';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  /** How the layer was mounted (router 2: `app.use(path, router)`); `slash` when mounted on '/'. */
  rawPath?: unknown;
  slash?: boolean;
}

/** Every (method, path) the app routes, read from Express's own router, with the paths routers are mounted on. */
function routesOf(app: Express): [string, string][] {
  const out: [string, string][] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) for (const m of Object.keys(layer.route.methods)) out.push([m, prefix + layer.route.path]);
      else if (layer.handle?.stack) {
        if (!layer.slash && typeof layer.rawPath !== 'string') throw new Error('a router mounted on a path this walk cannot read');
        walk(layer.handle.stack, layer.slash ? prefix : prefix + (layer.rawPath as string));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

/** The routes that name a tenant in the path and act for an admin: every one goes through the gate. */
function gatedRoutes(): [string, string][] {
  return routesOf(t.app).filter(([, path]) => path.startsWith('/v1/admin/tenants/') || path === '/v1/oauth/calcom/:tenant/start');
}

/** The route with the tenant's slug and a well-formed id in every other parameter. */
function urlOf(path: string, slug: string): string {
  return path.replace(/:(slug|tenant)\b/, slug).replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
}

function call(method: string, url: string): request.Test {
  return (request(t.app) as unknown as Record<string, (u: string) => request.Test>)[method]!(url);
}

beforeAll(async () => {
  t = await createTestApp();
  for (const slug of ['gate-a', 'gate-b']) {
    expect((await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [] })).status).toBe(201);
  }
  const minted = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'gate-b', label: 'scoped to gate-b' });
  expect(minted.status).toBe(201);
  foreignToken = minted.body.token as string;
});
afterAll(() => t.close());

describe('the tenant gate', () => {
  it("when every admin route of one tenant is called with a token scoped to another tenant, then each answers 403 forbidden and nothing of the tenant", async () => {
    const routes = gatedRoutes();
    expect(routes.length).toBeGreaterThan(30);
    for (const [method, path] of routes) {
      const res = await call(method, urlOf(path, 'gate-a'))
        .set('Authorization', `Bearer ${foreignToken}`)
        .send({});
      expect({ route: `${method.toUpperCase()} ${path}`, status: res.status, code: res.body?.code }).toEqual({ route: `${method.toUpperCase()} ${path}`, status: 403, code: 'forbidden' });
      expect(JSON.stringify(res.body)).not.toContain('gate-a"');
    }
  });

  it('when an all-tenants token calls every such route for a tenant that does not exist, then each answers 404 tenant_not_found before reading anything else', async () => {
    for (const [method, path] of gatedRoutes()) {
      const res = await call(method, urlOf(path, 'no-such-tenant')).set(asAdmin).send({});
      expect({ route: `${method.toUpperCase()} ${path}`, status: res.status, code: res.body?.code }).toEqual({ route: `${method.toUpperCase()} ${path}`, status: 404, code: 'tenant_not_found' });
    }
  });

  it('when a scoped token names a tenant that does not exist, then it is refused the same way, so it learns nothing about other slugs', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/no-such-tenant/bookings').set('Authorization', `Bearer ${foreignToken}`);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('when an all-tenants token names a tenant that does not exist, then the gate answers 404 tenant_not_found', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/no-such-tenant/bookings').set(asAdmin);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
  });

  it('when a scoped token reaches its own tenant, then the gate lets it through', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/gate-b/bookings').set('Authorization', `Bearer ${foreignToken}`);
    expect(res.status).toBe(200);
  });
});
