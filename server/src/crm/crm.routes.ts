import { CreateDestinationRequest, ListDeliveriesQuery, UpdateDestinationRequest } from '@calbridge/shared';
import { Router } from 'express';
import { z } from 'zod';
import { gatedTenant } from '../admin/admin.auth.js';
import { validate } from '../http/validate.js';
import { toDestination, type CrmService } from './crm.service.js';

const Id = z.uuid();

/** CRM destinations and deliveries of the admin API. Mounted behind adminAuth. */
export function crmRoutes(crm: CrmService): Router {
  const router = Router();
  const base = '/v1/admin/tenants/:slug';

  router.post(`${base}/destinations`, async (req, res) => {
    const body = validate(CreateDestinationRequest, req.body);
    const t = gatedTenant(res);
    const { destination, secret } = await crm.create(t.id, body);
    res.status(201).setHeader('Cache-Control', 'no-store');
    res.json({ ...toDestination(destination), ...(secret ? { secret } : {}) });
  });

  router.get(`${base}/destinations`, async (req, res) => {
    const t = gatedTenant(res);
    res.json({ data: (await crm.list(t.id)).map(toDestination) });
  });

  router.get(`${base}/destinations/:id`, async (req, res) => {
    const t = gatedTenant(res);
    const id = validate(Id, req.params.id, 'path.id');
    res.json(toDestination(await crm.get(t.id, id)));
  });

  router.patch(`${base}/destinations/:id`, async (req, res) => {
    const id = validate(Id, req.params.id, 'path.id');
    const body = validate(UpdateDestinationRequest, req.body);
    const t = gatedTenant(res);
    res.json(toDestination(await crm.update(t.id, id, body)));
  });

  router.delete(`${base}/destinations/:id`, async (req, res) => {
    const t = gatedTenant(res);
    const id = validate(Id, req.params.id, 'path.id');
    await crm.remove(t.id, id);
    res.status(204).end();
  });

  router.post(`${base}/destinations/:id/secret`, async (req, res) => {
    const t = gatedTenant(res);
    const id = validate(Id, req.params.id, 'path.id');
    const r = await crm.rotateSecret(t.id, id);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ ...toDestination(r.destination), secret: r.secret, previousSecretExpiresAt: r.previousSecretExpiresAt.toISOString() });
  });

  router.get(`${base}/deliveries`, async (req, res) => {
    const q = validate(ListDeliveriesQuery, req.query, 'query');
    const t = gatedTenant(res);
    res.json(await crm.deliveries(t.id, q));
  });

  router.post(`${base}/deliveries/:id/replay`, async (req, res) => {
    const t = gatedTenant(res);
    const id = validate(Id, req.params.id, 'path.id');
    res.status(202).json(await crm.replay(t.id, id));
  });

  return router;
}
