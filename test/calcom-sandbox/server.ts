import { createServer, type Server } from 'node:http';
import { registerBookings } from './api/bookings.js';
import { registerEventTypes } from './api/event-types.js';
import { registerMe } from './api/me.js';
import { registerSlots } from './api/slots.js';
import { registerWebhooks } from './api/webhooks.js';
import { registerBookingPage } from './booking-page.js';
import type { RateLimitState, SandboxContext } from './context.js';
import { registerControl, type SandboxControl } from './control.js';
import { ApiError, OAuthError, readBody, Router, sendApiError, sendJson, type RequestContext } from './http.js';
import { registerOAuth } from './oauth.js';
import { registerPlatform } from './platform.js';

/** Builds the router. Order matters: the Cal-link catch-all `/:user/:slug` comes last. */
export function buildRouter(sx: SandboxContext, control: SandboxControl): Router {
  const router = new Router();
  registerControl(router, control);
  registerMe(router, sx);
  registerEventTypes(router, sx);
  registerSlots(router, sx);
  registerBookings(router, sx);
  registerWebhooks(router, sx);
  registerPlatform(router, sx);
  registerOAuth(router, sx);
  registerBookingPage(router, sx);
  return router;
}

/**
 * Counts an API v2 request against its tracker (the bearer token, else the platform client id, else
 * the address, as CustomThrottlerGuard.getTracker does) and sets the throttler's headers. Throws a
 * 429 ThrottlerException, with the same headers and no Retry-After, once the window is used up.
 */
function throttle(ctx: RequestContext, state: RateLimitState, now: number): void {
  if (state.limit === null || !ctx.url.pathname.startsWith('/v2/')) return;
  const tracker = String(ctx.req.headers.authorization ?? ctx.req.headers['x-cal-client-id'] ?? ctx.req.socket.remoteAddress ?? 'unknown');
  let w = state.windows.get(tracker);
  if (!w || w.resetAt <= now) {
    w = { count: 0, resetAt: now + state.windowMs };
    state.windows.set(tracker, w);
  }
  w.count += 1;
  ctx.res.setHeader('X-RateLimit-Limit-Default', String(state.limit));
  ctx.res.setHeader('X-RateLimit-Remaining-Default', String(Math.max(0, state.limit - w.count)));
  ctx.res.setHeader('X-RateLimit-Reset-Default', String(Math.max(1, Math.ceil((w.resetAt - now) / 1000))));
  if (w.count > state.limit) throw new ApiError(429, 'ThrottlerException: Too Many Requests');
}

/** An HTTP server for the router; errors become Cal.com-shaped bodies. */
export function createSandboxServer(router: Router, sx?: Pick<SandboxContext, 'rateLimit' | 'clock'>): Server {
  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
      const ctx: RequestContext = { req, res, url, params: {}, rawBody: '' };
      try {
        ctx.rawBody = await readBody(req);
        const method = req.method ?? 'GET';
        const match = router.match(method === 'HEAD' ? 'GET' : method, url.pathname);
        // Nest answers unknown routes (and wrong methods) with 404 "Cannot <METHOD> <path>".
        if (!match || match === 'method') throw new ApiError(404, `Cannot ${method} ${url.pathname}`);
        ctx.params = match.params;
        if (sx) throttle(ctx, sx.rateLimit, sx.clock().getTime());
        await match.handler(ctx);
      } catch (err) {
        if (res.headersSent) {
          res.end();
          return;
        }
        if (err instanceof OAuthError) {
          sendJson(res, err.status, { error: err.error, error_description: err.description }, { 'cache-control': 'no-store', pragma: 'no-cache' });
        } else if (err instanceof ApiError) {
          sendApiError(ctx, err);
        } else {
          console.error('[calcom-sandbox] unexpected error', err);
          sendApiError(ctx, new ApiError(500, 'Internal server error'));
        }
      }
    })();
  });
}
