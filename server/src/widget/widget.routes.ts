import { Router, type Request, type Response } from 'express';
import { TenantNotFound } from '../errors.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { OriginNotAllowed } from '../sessions/sessions.errors.js';
import { publishedModes } from './published-modes.js';
import { PRIVACY_PAGE } from './privacy.page.js';
import type { WidgetService } from './widget.service.js';

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
export function widgetRoutes(widget: WidgetService, tenants: TenantsService): Router {
  const router = Router();

  router.use('/v1/widget/:tenant', async (req, res, next) => {
    const tenant = await tenants.find(String(req.params.tenant ?? ''));
    if (!tenant) {
      // Any HTTP client sees this 404 anyway; letting the page read it too makes the element say
      // "not available" instead of "unreachable" (a response without CORS reads as a network error).
      res.set('Access-Control-Allow-Origin', '*');
      throw new TenantNotFound();
    }
    const allowed = cors(tenant, req, res);
    if (req.method !== 'OPTIONS') return next();
    if (!allowed) throw new OriginNotAllowed();
    res.status(204).end();
  });

  router.get('/v1/widget/:tenant/config', async (req, res) => {
    const tenant = await widgetTenant(tenants, req);
    // Public and the same for every visitor: browsers and proxies may keep it for 5 minutes; Express adds the ETag and answers 304.
    const config = widget.config(tenant);
    const modes = publishedModes(config.modes, await tenants.calcomSummary(tenant.id));
    res.set('Cache-Control', 'public, max-age=300, stale-while-revalidate=60').json({ ...config, modes });
  });

  // The default privacy policy link of the consent step (tenants without their own `privacyPolicyUrl`).
  router.get('/privacy', (_req, res) => {
    res
      .set({ 'Cache-Control': 'public, max-age=3600', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'" })
      .type('html')
      .send(PRIVACY_PAGE);
  });

  return router;
}
