import { CreateAdminTokenRequest } from '@calbridge/shared';
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { Forbidden } from '../errors.js';
import { validate } from '../http/validate.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { principal } from './admin.auth.js';
import { createTokensService } from './tokens.service.js';

/** `POST /v1/admin/tokens`, `DELETE /v1/admin/tokens/:id`. Mounted behind adminAuth. */
export function tokensRoutes(ctx: AppContext, tenants: TenantsService): Router {
  const router = Router();
  const service = createTokensService(ctx);

  router.post('/v1/admin/tokens', async (req, res) => {
    const body = validate(CreateAdminTokenRequest, req.body);
    const caller = principal(res);
    // A scoped token can mint tokens for its own tenant only, never an all-tenants one.
    if (caller.tenantId !== null && body.tenant !== caller.tenantSlug) throw new Forbidden();
    const tenant = body.tenant ? await tenants.resolve(body.tenant) : null;
    const { record, token } = await service.create(tenant, body.label ?? null);
    res.status(201).json({
      id: record.id,
      token,
      tenant: record.tenantSlug,
      label: record.label,
      createdAt: record.createdAt.toISOString(),
    });
  });

  router.delete('/v1/admin/tokens/:id', async (req, res) => {
    const id = validate(z.string().uuid(), req.params.id, 'path');
    await service.revoke(principal(res), id);
    res.status(204).end();
  });

  return router;
}
