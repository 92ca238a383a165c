import { CreateTenantRequest, UpdateTenantRequest } from '@calbridge/shared';
import { Router } from 'express';
import { z } from 'zod';
import { assertPlatformAccess, gatedTenant, principal } from '../admin/admin.auth.js';
import { validate } from '../http/validate.js';
import { toTenant, type TenantsService } from './tenants.service.js';

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]*$/).optional(),
});

/** The tenant directory of the admin API. Mounted behind adminAuth; `/:slug` routes also behind the tenant gate. */
export function tenantsRoutes(tenants: TenantsService): Router {
  const router = Router();

  router.post('/v1/admin/tenants', async (req, res) => {
    assertPlatformAccess(res);
    const body = validate(CreateTenantRequest, req.body);
    const t = await tenants.create(body);
    res.status(201).location(`/v1/admin/tenants/${t.slug}`).json(toTenant(t));
  });

  router.get('/v1/admin/tenants', async (req, res) => {
    const q = validate(ListQuery, req.query, 'query');
    const p = principal(res);
    const page = p.tenantSlugs
      ? { data: (await Promise.all(p.tenantSlugs.map((s) => tenants.find(s)))).filter((t) => t !== null), nextCursor: null }
      : await tenants.list({ limit: q.limit, cursor: q.cursor ?? null, onlyTenantId: p.tenantId });
    const data = await Promise.all(page.data.map(async (t) => toTenant(t, await tenants.calcomSummary(t.id))));
    res.json({ data, nextCursor: page.nextCursor });
  });

  router.get('/v1/admin/tenants/:slug', async (_req, res) => {
    const t = gatedTenant(res);
    res.json(toTenant(t, await tenants.calcomSummary(t.id)));
  });

  router.patch('/v1/admin/tenants/:slug', async (req, res) => {
    const body = validate(UpdateTenantRequest, req.body);
    const t = await tenants.update(gatedTenant(res), body);
    res.json(toTenant(t, await tenants.calcomSummary(t.id)));
  });

  router.post('/v1/admin/tenants/:slug/webhook-secret', async (_req, res) => {
    const t = gatedTenant(res);
    const { secret, previousValidUntil } = await tenants.rotateWebhookSecret(t.id);
    res.status(201).set('Cache-Control', 'no-store').json({ secret, previousValidUntil });
  });

  return router;
}
