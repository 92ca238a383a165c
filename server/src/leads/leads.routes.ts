import { LeadRuleSetInput, ListLeadsQuery } from '@calbridge/shared';
import { Router } from 'express';
import { z } from 'zod';
import { gatedTenant } from '../admin/admin.auth.js';
import { validate } from '../http/validate.js';
import { toLead, toLeadBooking, toRuleSet, type LeadsService } from './leads.service.js';

const Id = z.uuid();

/** Leads and lead rules of the admin API. Mounted behind adminAuth and the tenant gate. */
export function leadsRoutes(leads: LeadsService): Router {
  const router = Router();
  const base = '/v1/admin/tenants/:slug';

  router.get(`${base}/lead-rules`, async (_req, res) => {
    const t = gatedTenant(res);
    res.json(toRuleSet(await leads.getRules(t.id)));
  });

  router.put(`${base}/lead-rules`, async (req, res) => {
    const body = validate(LeadRuleSetInput, req.body);
    const t = gatedTenant(res);
    res.json(toRuleSet(await leads.putRules(t.id, body)));
  });

  /** How current leads would score under a rule set, stored nowhere (the console's preview). */
  router.post(`${base}/lead-rules/preview`, async (req, res) => {
    const body = validate(LeadRuleSetInput, req.body);
    const t = gatedTenant(res);
    res.json({ data: await leads.previewRules(t.id, body) });
  });

  router.get(`${base}/leads`, async (req, res) => {
    const q = validate(ListLeadsQuery, req.query, 'query');
    const t = gatedTenant(res);
    const page = await leads.list(t.id, q);
    res.json({ data: page.data.map(toLead), nextCursor: page.nextCursor });
  });

  router.get(`${base}/leads/:id`, async (req, res) => {
    const id = validate(Id, req.params.id, 'path.id');
    const t = gatedTenant(res);
    const { lead, bookings, receipts } = await leads.get(t.id, id);
    res.json({
      ...toLead(lead),
      bookings: bookings.map((b) => ({
        ...toLeadBooking(b),
        noShow: b.facts.noShow,
        answers: b.facts.answers,
        utm: b.facts.utm,
        consentReceiptId: b.receipt?.id ?? null,
      })),
      consentReceipts: receipts.map((r) => ({
        id: r.id,
        consentVersion: r.consentVersion,
        purposes: r.purposes,
        pageOrigin: r.pageOrigin,
        createdAt: r.createdAt.toISOString(),
      })),
    });
  });

  return router;
}
