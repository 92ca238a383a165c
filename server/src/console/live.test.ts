import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { tenantGate } from '../admin/admin.auth.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { liveRoutes, type LiveSources } from './live.js';

/** A stream's text as it arrives, with a way to wait for a piece of it. */
function openStream(url: string, headers: Record<string, string> = {}) {
  let text = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const req = httpRequest(url, { headers });
  const response = new Promise<{ status: number; type: string }>((resolve) => {
    req.on('response', (res) => {
      resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const w of [...waiters]) if (w.pattern.test(text)) w.resolve();
      });
    });
  });
  req.end();
  return {
    response,
    until: (pattern: RegExp) => (pattern.test(text) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pattern, resolve }))),
    text: () => text,
    close: () => req.destroy(),
  };
}

describe('live delivery logs (Server-Sent Events)', () => {
  it('when a booking arrives while the console watches, then the stream says "bookings" changed, and only that', async () => {
    const state = { bookings: [{ uid: 'a' }] as unknown[] };
    const sources = {
      webhooks: { deliveries: async () => ({ data: [], nextCursor: null }) },
      bookings: { list: async () => ({ data: state.bookings, nextCursor: null }) },
      leads: { list: async () => ({ data: [], nextCursor: null }) },
      crm: { deliveries: async () => ({ data: [] }) },
    } as unknown as LiveSources;
    const tenants = { resolve: async (slug: string) => ({ id: '00000000-0000-4000-8000-000000000001', slug }) } as unknown as TenantsService;
    const app = express();
    app.use((_req, res, next) => {
      res.locals.admin = { tokenId: null, tenantId: null, tenantSlug: null };
      next();
    });
    // As app.ts mounts it: the tenant gate before every /v1/admin/tenants/:slug route.
    app.use('/v1/admin/tenants/:slug', tenantGate(tenants));
    app.use(liveRoutes(sources, { pollMs: 20, maxStreamMs: 60_000 }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const stream = openStream(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/admin/tenants/demo/events`);
    try {
      expect(await stream.response).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8' });
      await stream.until(/: idle/);
      expect(stream.text()).not.toContain('event: change');
      state.bookings = [{ uid: 'b' }, { uid: 'a' }];
      await stream.until(/event: change/);
      expect(stream.text()).toContain('event: change\ndata: {"topics":["bookings"]}\n\n');
    } finally {
      stream.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('when the caller may not see the tenant, then no stream opens (forbidden)', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.locals.admin = { tokenId: null, tenantId: null, tenantSlug: null, tenantSlugs: ['demo'] };
      next();
    });
    const tenants = { resolve: async () => ({ id: 'x' }) } as unknown as TenantsService;
    app.use('/v1/admin/tenants/:slug', tenantGate(tenants));
    app.use(liveRoutes({} as LiveSources, { pollMs: 20, maxStreamMs: 1000 }));
    app.use(((err, _req, res, _next) => res.status(err.status ?? 500).json({ code: err.code })) as express.ErrorRequestHandler);
    const { default: request } = await import('supertest');
    const res = await request(app).get('/v1/admin/tenants/other/events');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });
});
