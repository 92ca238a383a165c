import { Router, type ErrorRequestHandler } from 'express';
import { adminAuth, gatedTenant, tenantGate } from '../admin/admin.auth.js';
import type { AppContext } from '../context.js';
import { AppError } from '../errors.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { PAGE_HEADERS, renderPage } from './oauth.pages.js';
import { BROWSER_BINDING_COOKIE, type OAuthService } from './oauth.service.js';

/** One cookie's value from a Cookie header (the first one of that name), or undefined. */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * `GET /v1/oauth/calcom/:tenant/start` (admin token) redirects to Cal.com's
 * consent page; `GET /v1/oauth/calcom/callback` is where Cal.com sends the
 * admin back, and answers with a page, never JSON or a stack.
 */
export function oauthRoutes(ctx: Pick<AppContext, 'config' | 'db' | 'logger'>, oauth: OAuthService, tenants: TenantsService): Router {
  const router = Router();

  const gate = tenantGate(tenants, { param: 'tenant', routePattern: '/v1/oauth/calcom/:tenant/start' });
  router.get('/v1/oauth/calcom/:tenant/start', adminAuth(ctx), gate, async (_req, res) => {
    const { url, cookie } = await oauth.start(gatedTenant(res));
    // The state is bound to this browser: the callback refuses a browser without this cookie.
    res.set('Cache-Control', 'no-store').append('Set-Cookie', cookie).redirect(302, url.toString());
  });

  router.get('/v1/oauth/calcom/callback', async (req, res) => {
    const { tenant, username } = await oauth.callback(req.query, readCookie(req.headers.cookie, BROWSER_BINDING_COOKIE));
    res
      .status(200)
      .set(PAGE_HEADERS)
      .send(renderPage({ title: 'Connected to Cal.com', message: `${tenant.name} is connected to Cal.com as ${username}. You can close this page.` }));
  });

  const errorPage: ErrorRequestHandler = (err, _req, res, _next) => {
    const known = err instanceof AppError ? err : null;
    if (!known) ctx.logger.error({ err: { type: (err as Error)?.name, message: (err as Error)?.message }, route: '/v1/oauth/calcom/callback' }, 'unhandled error');
    else if (known.status >= 500) ctx.logger.warn({ code: known.code, cause: (known.cause as Error | undefined)?.message }, 'OAuth callback failed');
    const code = known?.code ?? 'internal_error';
    res
      .status(known?.status ?? 500)
      .set(PAGE_HEADERS)
      .send(renderPage({ title: 'Cal.com was not connected', message: known?.message ?? 'Something went wrong on our side; it has been logged.', code }));
  };
  router.use('/v1/oauth/calcom/callback', errorPage);

  return router;
}
