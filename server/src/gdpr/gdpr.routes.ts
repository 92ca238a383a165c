import { AuditQuery, ConsentsQuery, EraseSubjectOptions, RetentionPolicyPatch, SubjectEmail, SubjectExportQuery } from '@calbridge/shared';
import { Router, type Request } from 'express';
import { gatedTenant, principal } from '../admin/admin.auth.js';
import { validate } from '../http/validate.js';
import { ExportFormatNotAcceptable, SubjectEmailInvalid } from './gdpr.errors.js';
import { actorOf, type GdprService } from './gdpr.service.js';
import { createZip } from './zip.js';

/** The `:email` path segment, normalised; `subject_email_invalid` otherwise (the value is never echoed). */
function emailParam(req: Request): string {
  const r = SubjectEmail.safeParse(String(req.params.email ?? ''));
  if (!r.success) throw new SubjectEmailInvalid();
  return r.data;
}

/** JSON unless the query says zip, or the client accepts zip and not JSON first. */
function wantsZip(req: Request, format: 'json' | 'zip' | undefined): boolean {
  if (format) return format === 'zip';
  const accept = req.get('accept');
  if (!accept) return false;
  const best = req.accepts(['application/json', 'application/zip']);
  if (!best) throw new ExportFormatNotAcceptable();
  return best === 'application/zip';
}

/**
 * The GDPR admin API (issue 8), behind adminAuth and the tenant gate. Paths carry the subject's
 * email; the request logger records only the route pattern, and nothing here
 * logs, so no email reaches a log line.
 */
export function gdprRoutes(gdpr: GdprService): Router {
  const router = Router();
  const base = '/v1/admin/tenants/:slug';

  router.get(`${base}/subjects/:email/export`, async (req, res) => {
    const p = principal(res);
    const email = emailParam(req);
    const q = validate(SubjectExportQuery, req.query, 'query');
    const zip = wantsZip(req, q.format);
    const tenant = gatedTenant(res);
    const doc = await gdpr.exportSubject(tenant, email, actorOf(p));
    res.setHeader('Cache-Control', 'no-store');
    if (!zip) {
      res.json(doc);
      return;
    }
    const name = `subject-export-${doc.subject.ref.slice(0, 12)}`;
    const archive = createZip([{ name: `${name}/export.json`, data: Buffer.from(JSON.stringify(doc, null, 2), 'utf8') }], new Date(doc.generatedAt));
    res.setHeader('Content-Disposition', `attachment; filename="${name}.zip"`);
    res.type('application/zip').send(archive);
  });

  router.delete(`${base}/subjects/:email`, async (req, res) => {
    const p = principal(res);
    const email = emailParam(req);
    const fromQuery = validate(EraseSubjectOptions, req.query, 'query');
    const fromBody = validate(EraseSubjectOptions, req.body ?? {}, 'body');
    const tenant = gatedTenant(res);
    const receipt = await gdpr.eraseSubject(tenant, email, { cancelFutureBookings: fromBody.cancelFutureBookings ?? fromQuery.cancelFutureBookings }, actorOf(p));
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).json(receipt);
  });

  router.get(`${base}/consents`, async (req, res) => {
    const p = principal(res);
    const emailGiven = typeof req.query.email === 'string';
    const parsed = ConsentsQuery.safeParse(req.query);
    if (!parsed.success && emailGiven && parsed.error.issues.some((i) => i.path[0] === 'email')) throw new SubjectEmailInvalid();
    const q = validate(ConsentsQuery, req.query, 'query');
    const tenant = gatedTenant(res);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await gdpr.consents(tenant, q, actorOf(p)));
  });

  router.get(`${base}/retention`, async (req, res) => {
    const tenant = gatedTenant(res);
    res.json(await gdpr.retention(tenant));
  });

  router.put(`${base}/retention`, async (req, res) => {
    const p = principal(res);
    const patch = validate(RetentionPolicyPatch, req.body, 'body');
    const tenant = gatedTenant(res);
    res.json(await gdpr.updateRetention(tenant, patch, actorOf(p)));
  });

  router.get(`${base}/audit`, async (req, res) => {
    const q = validate(AuditQuery, req.query, 'query');
    const tenant = gatedTenant(res);
    res.json(await gdpr.auditLog(tenant, q));
  });

  return router;
}
