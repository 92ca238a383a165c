import { CreateSessionRequest, ObservedBookingRequest } from '@calbridge/shared';
import { Router } from 'express';
import { validate } from '../http/validate.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { widgetTenant } from '../widget/widget.routes.js';
import { rateLimitAddress, truncateIp, userAgentFamily } from './client.js';
import type { SessionsService } from './sessions.service.js';

/** `POST /v1/widget/:tenant/sessions` and `POST /v1/widget/:tenant/bookings/observed`. */
export function sessionsRoutes(sessions: SessionsService, tenants: TenantsService): Router {
  const router = Router();

  router.post('/v1/widget/:tenant/sessions', async (req, res) => {
    const tenant = await widgetTenant(tenants, req);
    const client = { origin: req.get('origin'), ipPrefix: truncateIp(req.ip), rateLimitAddress: rateLimitAddress(req.ip), userAgentFamily: userAgentFamily(req.get('user-agent')) };
    sessions.allowedOrigin(tenant, client.origin);
    const body = validate(CreateSessionRequest, req.body);
    res.status(201).set('Cache-Control', 'no-store').json(await sessions.create(tenant, client, body));
  });

  router.post('/v1/widget/:tenant/bookings/observed', async (req, res) => {
    const tenant = await widgetTenant(tenants, req);
    const claims = await sessions.verify(tenant, req.get('origin'), req.get('authorization'), 'bookings:observe');
    const body = validate(ObservedBookingRequest, req.body);
    const { created, ...result } = await sessions.observe(tenant, claims, body);
    res.status(created ? 201 : 200).set('Cache-Control', 'no-store').json(result);
  });

  return router;
}
