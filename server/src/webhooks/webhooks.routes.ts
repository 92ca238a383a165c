import express, { Router, type ErrorRequestHandler } from 'express';
import { SeqCursor } from '@calbridge/shared';
import { z } from 'zod';
import { gatedTenant } from '../admin/admin.auth.js';
import { validate } from '../http/validate.js';
import type { WebhookMetrics } from './webhooks.metrics.js';
import type { WebhooksService } from './webhooks.service.js';

/**
 * Cal.com bodies are a few KB, but web-booker metadata and booking answers are
 * visitor-set and unbounded (bookingCreateBodySchema.ts); a refused delivery is
 * lost for good (Cal.com does not resend), so the limit only stops abuse.
 * Anything above it is refused with 413 before it is read (it cannot be verified).
 */
export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

/** The three answers to a delivery, serialised once (here and in webhooks.fast-path.ts). */
export const INTAKE_ANSWERS = {
  stored: Buffer.from(JSON.stringify({ received: true, duplicate: false })),
  duplicate: Buffer.from(JSON.stringify({ received: true, duplicate: true })),
  spooled: Buffer.from(JSON.stringify({ received: true, duplicate: false, spooled: true })),
};

/**
 * `POST /v1/webhooks/calcom/:tenant`: mounted before the JSON parser, because
 * the signature covers the exact bytes. Answers 200 `{ duplicate }` only after
 * the delivery is committed. Deliveries with a declared length within the limit
 * are answered before Express by webhooks.fast-path.ts, the same way; this route
 * answers the rest (chunked or encoded bodies, odd spellings of the path).
 */
export function webhookIntakeRoutes(webhooks: WebhooksService, metrics: WebhookMetrics): Router {
  const router = Router();
  // Any content type: Cal.com sends JSON, or form-encoded bodies for some templates, and the bytes are what is signed.
  // No inflating: Cal.com does not compress, the signature covers the bytes as sent, and a compressed body is refused (415).
  router.post('/v1/webhooks/calcom/:tenant', express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT_BYTES, inflate: false }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await webhooks.receive(String(req.params.tenant ?? ''), req.get('x-cal-signature-256'), body);
    // 202 when the database was away and the delivery waits in the local spool: acknowledged all the same.
    const [status, answer] = result.spooled ? [202, INTAKE_ANSWERS.spooled] : [200, result.duplicate ? INTAKE_ANSWERS.duplicate : INTAKE_ANSWERS.stored];
    // Three fixed answers, serialised once; no ETag (nothing caches a POST's answer; res.json would hash each one).
    res.status(status).set({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(answer.length) }).end(answer);
  });
  // Bodies refused by the parser (too large, bad encoding) are deliveries too: count them, then let the problem handler answer.
  const countParserRefusals: ErrorRequestHandler = (err, _req, _res, next) => {
    const type = (err as { type?: string } | undefined)?.type;
    const code = type === 'entity.too.large' ? 'payload_too_large' : type === 'encoding.unsupported' ? 'unsupported_media_type' : 'invalid_request';
    metrics.deliveries.inc({ outcome: 'rejected', code });
    next(err);
  };
  router.use('/v1/webhooks/calcom', countParserRefusals);
  return router;
}

/** A delivery-log id: a positive bigint. */
const DeliveryId = z.string().refine((s) => /^[0-9]{1,19}$/.test(s) && BigInt(s) <= 9223372036854775807n, 'a delivery id');

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: SeqCursor.optional(),
});

/**
 * `GET /v1/admin/tenants/:slug/webhook-deliveries`: the delivery log, newest first;
 * `POST …/webhook-deliveries/:id/reprocess`: applies a stored delivery again and
 * answers its new status. Mounted behind adminAuth and the tenant gate.
 */
export function webhookAdminRoutes(webhooks: WebhooksService): Router {
  const router = Router();
  router.get('/v1/admin/tenants/:slug/webhook-deliveries', async (req, res) => {
    const q = validate(ListQuery, req.query, 'query');
    const t = gatedTenant(res);
    const page = await webhooks.deliveries(t.id, q.limit, q.cursor ?? null);
    res.json({
      data: page.data.map((d) => ({
        id: d.id,
        receivedAt: d.receivedAt.toISOString(),
        trigger: d.trigger,
        outcome: d.outcome,
        code: d.code,
        // What became of the stored delivery: processed, or unprocessed with the reason (null when nothing was stored).
        status: d.status,
        reason: d.reason,
      })),
      nextCursor: page.nextCursor,
    });
  });
  router.post('/v1/admin/tenants/:slug/webhook-deliveries/:id/reprocess', async (req, res) => {
    const { id } = validate(z.strictObject({ slug: z.string(), id: DeliveryId }), req.params, 'path');
    const t = gatedTenant(res);
    const r = await webhooks.reprocess(t.id, id);
    res.set('Cache-Control', 'no-store').json(r);
  });
  return router;
}
