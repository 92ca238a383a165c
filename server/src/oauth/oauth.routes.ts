import { Router, type ErrorRequestHandler } from 'express';
import { adminAuth, assertTenantAccess } from '../admin/admin.auth.js';
import type { AppContext } from '../context.js';
import { AppError } from '../errors.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { PAGE_HEADERS, renderPage } from './oauth.pages.js';
import type { OAuthService } from './oauth.service.js';

/**
 * `GET /v1/oauth/calcom/:tenant/start` (admin token) redirects to Cal.com's
 * consent page; `GET /v1/oauth/calcom/callback` is where Cal.com sends the
 * admin back, and answers with a page, never JSON or a stack.
 */
export function oauthRoutes(ctx: Pick<AppContext, 'config' | 'db' | 'logger'>, oauth: OAuthService, tenants: TenantsService): Router {
  const router = Router();

  router.get('/v1/oauth/calcom/:tenant/start', adminAuth(ctx), async (req, res) => {
    const slug = String(req.params.tenant ?? '');
    assertTenantAccess(res, slug);
    const url = await oauth.start(await tenants.resolve(slug));
    res.set('Cache-Control', 'no-store').redirect(302, url.toString());
  });

  router.get('/v1/oauth/calcom/callback', async (req, res) => {
    const { tenant, username } = await oauth.callback(req.query as Record<string, unknown>);
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
