import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../http/metrics.js';
import { problemAnswer } from '../http/problem.js';
import { requestIdFrom } from '../http/request-log.js';
import { STRICT_CSP } from '../http/security-headers.js';
import type { Logger } from '../logger.js';
import type { WebhookMetrics } from './webhooks.metrics.js';
import { INTAKE_ANSWERS, WEBHOOK_BODY_LIMIT_BYTES } from './webhooks.routes.js';
import type { WebhooksService } from './webhooks.service.js';

/** The intake's path with a slug of plain characters: nothing for the URL guard to decode or refuse. */
const INTAKE_PATH = /^\/v1\/webhooks\/calcom\/([A-Za-z0-9_-]{1,64})$/;
const ROUTE = '/v1/webhooks/calcom/:tenant';

/**
 * Every Cal.com delivery is answered here, before Express sets a request up (decision 0031):
 * Express's per-request work (prototypes swapped on req and res, the router walking every
 * middleware, the raw-body parser) cost more CPU than verifying, validating and storing the
 * delivery. Same service call (`webhooks.receive`: HMAC over the raw bytes, zod, the tenant
 * transaction, durable before the answer), same answers and headers as `webhookIntakeRoutes`
 * and the app's middleware give (security headers, `X-Request-Id`, problem+json refusals), same
 * request log line and HTTP metrics. Returns false, before reading anything, for whatever it
 * does not take: another method or path, a query string, a body without `Content-Length` or
 * above the limit, any `Content-Encoding`; those go on to Express, which answers them as before
 * (413, 415, the URL guard's 400).
 */
export function webhookIntakeFastPath(
  webhooks: WebhooksService,
  deps: { metrics: Metrics; webhookMetrics: WebhookMetrics; logger: Logger },
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { metrics, webhookMetrics, logger } = deps;
  // Series resolved once per status: a delivery then only adds to plain numbers (http/metrics.ts).
  const counted = new Map<number, (seconds: number) => void>();
  const count = (status: number, seconds: number) => {
    let record = counted.get(status);
    if (!record) counted.set(status, (record = metrics.series('POST', ROUTE, String(status))));
    record(seconds);
  };

  function answer(res: ServerResponse, requestId: string, start: bigint, status: number, contentType: string, body: Buffer, extra: Record<string, string>) {
    // One flat list to writeHead: no per-header validation of what we built ourselves.
    const headers = [
      'X-Content-Type-Options', 'nosniff',
      'Referrer-Policy', 'strict-origin-when-cross-origin',
      'Content-Security-Policy', STRICT_CSP,
      'X-Frame-Options', 'DENY',
      'X-Request-Id', requestId,
      'Cache-Control', 'no-store',
      'Content-Type', contentType,
      'Content-Length', String(body.length),
    ];
    for (const [k, v] of Object.entries(extra)) headers.push(k, v);
    res.writeHead(status, headers);
    res.end(body);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    count(status, seconds);
    // The request log line of http/request-log.ts: no URL, query, headers or body.
    logger.info({ requestId, method: 'POST', route: ROUTE, status, ms: Math.round(seconds * 1e5) / 100 }, 'request');
  }

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const m = INTAKE_PATH.exec(req.url ?? '');
    if (!m) return false;
    const h = req.headers;
    if (h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return false;
    const declared = h['content-length'];
    const length = declared !== undefined && /^[0-9]{1,8}$/.test(declared) ? Number(declared) : -1;
    if (length < 0 || length > WEBHOOK_BODY_LIMIT_BYTES) return false;

    const start = process.hrtime.bigint();
    const requestId = requestIdFrom(typeof h['x-request-id'] === 'string' ? h['x-request-id'] : undefined);
    const signature = h['x-cal-signature-256'];
    const slug = m[1]!;
    // Node's parser delivers exactly Content-Length bytes before 'end'; most bodies come in one chunk.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      webhooks.receive(slug, typeof signature === 'string' ? signature : undefined, body).then(
        (result) => {
          const [status, bytes] = result.spooled ? [202, INTAKE_ANSWERS.spooled] : [200, result.duplicate ? INTAKE_ANSWERS.duplicate : INTAKE_ANSWERS.stored];
          answer(res, requestId, start, status, 'application/json; charset=utf-8', bytes, {});
        },
        (err: unknown) => {
          const problem = problemAnswer(err, logger, ROUTE);
          answer(res, requestId, start, problem.status, 'application/problem+json; charset=utf-8', Buffer.from(problem.body), problem.headers);
        },
      );
    });
    // A body cut off before its end (the client went away) is a refusal the raw-body parser counts too.
    req.on('close', () => {
      if (!req.complete) webhookMetrics.deliveries.inc({ outcome: 'rejected', code: 'invalid_request' });
    });
    return true;
  };
}
