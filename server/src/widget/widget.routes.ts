import { Router, type Request, type Response } from 'express';
import { TenantNotFound } from '../tenants/tenants.errors.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { OriginNotAllowed, WidgetNotConfigured } from '../sessions/sessions.errors.js';
import { PRIVACY_PAGE } from './privacy.page.js';
import { CONFIG_CACHE_CONTROL, noneMatch, type WidgetConfigCache, type WidgetEntry } from './widget.config-cache.js';

/** Resolves `:tenant` of a widget route, or 404 `tenant_not_found`. */
export async function widgetTenant(tenants: TenantsService, req: Request): Promise<TenantRecord> {
  const t = await tenants.find(String(req.params.tenant ?? ''));
  if (!t) throw new TenantNotFound();
  return t;
}

/** CORS answers only for the tenant's registered origins; other origins get no CORS headers. */
function cors(tenant: TenantRecord, req: Request, res: Response): boolean {
  res.vary('Origin');
  const origin = req.get('origin');
  if (!origin || !tenant.allowedOrigins.includes(origin)) return false;
  res.set({
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST',
    'Access-Control-Allow-Headers': 'Content-Type, Authorization, Idempotency-Key',
    'Access-Control-Max-Age': '600',
  });
  return true;
}

/** The public widget API: CORS for `/v1/widget/:tenant/*`, `GET /v1/widget/:tenant/config`, and the `/privacy` page. */
export function widgetRoutes(cache: WidgetConfigCache): Router {
  const router = Router();

  router.use('/v1/widget/:tenant', async (req, res, next) => {
    const entry = await cache.get(String(req.params.tenant ?? ''));
    if (!entry) {
      // Any HTTP client sees this 404 anyway; letting the page read it too makes the element say
      // "not available" instead of "unreachable" (a response without CORS reads as a network error).
      res.set('Access-Control-Allow-Origin', '*');
      throw new TenantNotFound();
    }
    const allowed = cors(entry.tenant, req, res);
    (res.locals as { widget?: WidgetEntry }).widget = entry;
    if (req.method !== 'OPTIONS') return next();
    if (!allowed) throw new OriginNotAllowed();
    res.status(204).end();
  });

  // Every page view of every client site asks for this: it answers from the in-process cache
  // (widget.config-cache.ts), with a strong ETag and a 304 for a copy the client already has.
  // Public and the same for every visitor, but the CORS headers depend on the page's origin: Vary.
  router.get('/v1/widget/:tenant/config', (req, res) => {
    const config = (res.locals as { widget: WidgetEntry }).widget.config;
    if (!config) throw new WidgetNotConfigured();
    res.setHeader('Cache-Control', CONFIG_CACHE_CONTROL);
    res.setHeader('ETag', config.etag);
    if (noneMatch(req.headers['if-none-match'], config.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', config.body.length);
    res.end(req.method === 'HEAD' ? undefined : config.body);
  });

  // The default privacy policy link of the consent step (tenants without their own `privacyPolicyUrl`).
  router.get('/privacy', (_req, res) => {
    res
      .set({ 'Cache-Control': 'public, max-age=3600', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" })
      .type('html')
      .send(PRIVACY_PAGE);
  });

  return router;
}
