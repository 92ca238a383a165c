import { createServer, type Server } from 'node:http';
import { registerBookings } from './api/bookings.js';
import { registerEventTypes } from './api/event-types.js';
import { registerMe } from './api/me.js';
import { registerSlots } from './api/slots.js';
import { registerWebhooks } from './api/webhooks.js';
import { registerBookingPage } from './booking-page.js';
import type { SandboxContext } from './context.js';
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

/** An HTTP server for the router; errors become Cal.com-shaped bodies. */
export function createSandboxServer(router: Router): Server {
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
