import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../http/metrics.js';
import { STRICT_CSP } from '../http/security-headers.js';
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
  // Series resolved once: a page view then only adds to plain numbers (http/metrics.ts).
  const counted = new Map<string, (seconds: number) => void>();
  const count = (method: string, status: string, seconds: number) => {
    const key = `${method} ${status}`;
    let record = counted.get(key);
    if (!record) counted.set(key, (record = metrics.series(method, ROUTE, status)));
    record(seconds);
  };

  return (req, res) => {
    const start = process.hrtime.bigint();
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const m = CONFIG_PATH.exec(req.url ?? '');
    if (!m) return false;
    const entry = cache.peek(m[1]!);
    const config = entry?.config;
    if (!entry || !config) return false;

    // Headers as one flat list to writeHead: no per-header validation of what we built ourselves.
    const origin = req.headers.origin;
    const headers = [
      'X-Content-Type-Options', 'nosniff',
      'Referrer-Policy', 'strict-origin-when-cross-origin',
      // The same as every other answer (http/security-headers.ts): nothing loads, nothing frames it.
      'Content-Security-Policy', STRICT_CSP,
      'X-Frame-Options', 'DENY',
      'Vary', 'Origin',
      ...(origin && entry.tenant.allowedOrigins.includes(origin) ? corsHeaders(origin) : []),
      'Cache-Control', CONFIG_CACHE_CONTROL,
      'ETag', config.etag,
    ];
    let status: '200' | '304' = '200';
    if (noneMatch(req.headers['if-none-match'], config.etag)) {
      status = '304';
      res.writeHead(304, headers);
      res.end();
    } else {
      headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(config.body.length));
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : config.body);
    }
    count(req.method, status, Number(process.hrtime.bigint() - start) / 1e9);
    return true;
  };
}

/** The CORS answer of widget.routes.ts for a registered origin. */
const corsHeaders = (origin: string): string[] => [
  'Access-Control-Allow-Origin', origin,
  'Access-Control-Allow-Methods', 'GET, POST',
  'Access-Control-Allow-Headers', 'Content-Type, Authorization, Idempotency-Key',
  'Access-Control-Max-Age', '600',
];
