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
 * Counts an API v2 request against its tracker and sets the throttler's headers, as Cal.com's
 * CustomThrottlerGuard does (apps/api/v2/src/lib/throttler-guard.ts getTracker, incrementRateLimit,
 * with the increment script of @nest-lab/throttler-storage-redis): the bearer token (an API key or
 * an access token), else the platform client id, else the address. Throws a 429 ThrottlerException,
 * with the same headers and no Retry-After, while the tracker is blocked.
 */
function throttle(ctx: RequestContext, state: RateLimitState, now: number): void {
  if (state.limits === null || !ctx.url.pathname.startsWith('/v2/')) return;
  // Any Authorization header counts as a token, a Basic one too (the guard only strips "Bearer ").
  const bearer = ctx.req.headers.authorization?.replace('Bearer ', '');
  const clientId = ctx.req.headers['x-cal-client-id'];
  // Behind Cloudflare the address is cf-connecting-ip's, else the socket's (getTracker). So every
  // call without a token or client id from one egress address shares one count: OAuth token
  // refreshes at /v2/auth/oauth2/token of every tenant, which has no @Throttle of its own
  // (apps/api/v2/src/modules/auth/oauth2/controllers/oauth2-token.controller.ts).
  const address = ctx.req.headers['cf-connecting-ip'] ?? ctx.req.socket.remoteAddress ?? 'unknown';
  const [tracker, limit] = bearer
    ? bearer.startsWith('cal_')
      ? [`api_key_${bearer}`, state.limits.apiKey]
      : [`access_token_${bearer}`, state.limits.accessToken]
    : clientId
      ? [`oauth_client_${String(clientId)}`, state.limits.oauthClient]
      : [`ip_${String(address)}`, state.limits.other];
  let w = state.windows.get(tracker);
  if (!w || w.resetAt <= now) {
    // A new window starts at its first hit; a block outlives the window it began in.
    w = { count: 0, resetAt: now + state.windowMs, blockedUntil: w?.blockedUntil ?? 0 };
    state.windows.set(tracker, w);
  }
  w.count += 1;
  let blocked = w.blockedUntil > now;
  if (!blocked && w.count > limit) {
    w.blockedUntil = now + state.blockMs;
    blocked = true;
  }
  ctx.res.setHeader('X-RateLimit-Limit-Default', String(limit));
  ctx.res.setHeader('X-RateLimit-Remaining-Default', String(blocked ? 0 : Math.max(0, limit - w.count)));
  ctx.res.setHeader('X-RateLimit-Reset-Default', String(Math.ceil(((blocked ? w.blockedUntil : w.resetAt) - now) / 1000)));
  if (blocked) throw new ApiError(429, 'ThrottlerException: Too Many Requests');
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
