import { Router } from 'express';
import { z } from 'zod';
import { gatedTenant } from '../admin/admin.auth.js';
import { validate } from '../http/validate.js';
import type { Calcom } from './calcom.js';

const ManagedUserRequest = z
  .strictObject({
    email: z.email().max(254).optional(),
    name: z.string().trim().min(1).max(200).optional(),
    timeZone: z.string().min(1).max(64).optional(),
  })
  .default({});

/** The admin API of Cal.com connections. Mounted behind adminAuth and the tenant gate. */
export function calcomAdminRoutes(calcom: Calcom): Router {
  const router = Router();

  router.post('/v1/admin/tenants/:slug/calcom/managed-user', async (req, res) => {
    const body = validate(ManagedUserRequest, req.body ?? {});
    const t = gatedTenant(res);
    const created = await calcom.connections.provisionManagedUser(t, body);
    res.status(201).set('Cache-Control', 'no-store').json({
      calcom: await calcom.connections.summary(t.id),
      managedUser: { id: created.calcomUserId, username: created.username },
    });
  });

  router.delete('/v1/admin/tenants/:slug/calcom/managed-user', async (_req, res) => {
    await calcom.connections.removeManagedUser(gatedTenant(res));
    res.status(204).end();
  });

  // Forgets an OAuth connection (a managed user is removed with the route above).
  router.delete('/v1/admin/tenants/:slug/calcom/oauth', async (_req, res) => {
    const { webhookRemoved } = await calcom.connections.disconnectOAuth(gatedTenant(res));
    res.status(200).set('Cache-Control', 'no-store').json({ webhookRemoved });
  });

  router.post('/v1/admin/tenants/:slug/calcom/webhook', async (_req, res) => {
    const t = gatedTenant(res);
    const sync = await calcom.webhookRegistration.ensure(t);
    res.status(200).json({ action: sync.action, removedDuplicates: sync.removedDuplicates });
  });

  router.post('/v1/admin/tenants/:slug/reconcile', async (_req, res) => {
    const t = gatedTenant(res);
    res.status(200).json(await calcom.reconciliation.reconcileTenant(t.id));
  });

  return router;
}
