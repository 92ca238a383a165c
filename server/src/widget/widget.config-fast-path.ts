import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../http/metrics.js';
import { CONFIG_CACHE_CONTROL, noneMatch, type WidgetConfigCache } from './widget.config-cache.js';

const CONFIG_PATH = /^\/v1\/widget\/([a-z0-9-]{1,64})\/config$/;
const ROUTE = '/v1/widget/:tenant/config';

/**
 * Every page view of every client site asks for its tenant's config, so a cached one is
 * answered here, before Express sets a request up (its per-request work costs several
 * times the answer: bench:config): the same answer `widgetRoutes` gives (CORS for
 * registered origins, strong ETag, 304, Cache-Control, Vary: Origin, the security
 * headers) and the same metrics. Returns false for anything else (a miss, another
 * method, a query string, a refusal), which goes on to the full app; that fills the
 * cache. Not logged per request (page views would drown the log); counted in metrics.
 */
export function widgetConfigFastPath(cache: WidgetConfigCache, metrics: Metrics): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const start = process.hrtime.bigint();
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const m = CONFIG_PATH.exec(req.url ?? '');
    if (!m) return false;
    const entry = cache.peek(m[1]!);
    const config = entry?.config;
    if (!entry || !config) return false;

    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin && entry.tenant.allowedOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, Idempotency-Key');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.setHeader('Cache-Control', CONFIG_CACHE_CONTROL);
    res.setHeader('ETag', config.etag);
    let status = 200;
    if (noneMatch(req.headers['if-none-match'], config.etag)) {
      status = 304;
      res.statusCode = 304;
      res.end();
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', config.body.length);
      res.end(req.method === 'HEAD' ? undefined : config.body);
    }
    const labels = { method: req.method, route: ROUTE, status: status === 200 ? '200' : '304' };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    return true;
  };
}
