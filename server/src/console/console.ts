import { Router, type RequestHandler } from 'express';
import { createBookingsService } from '../bookings/bookings.service.js';
import type { AppContext } from '../context.js';
import { createCrmService } from '../crm/crm.service.js';
import { createLeadsService } from '../leads/leads.service.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { WebhooksService } from '../webhooks/webhooks.service.js';
import { consoleAuth } from './console.auth.js';
import { consoleAdminRoutes, consoleRoutes, consoleStatic } from './console.routes.js';
import { createConsoleService } from './console.service.js';
import { liveRoutes, type LiveOptions } from './live.js';
import type { OidcClient } from './oidc.js';

export interface AdminConsole {
  /** Mounted on /v1/admin before the bearer check: a console session as a way into the admin API. */
  sessionAuth: RequestHandler;
  /** Sign-in, sign-out, the session, the built app at /admin, and the console's own admin routes (behind the admin auth). */
  routes: Router;
}

/** The admin console (issue 14; docs/decisions/0017-admin-console.md). */
export function createAdminConsole(
  ctx: AppContext,
  tenants: TenantsService,
  webhooks: WebhooksService,
  options: { oidc?: OidcClient; live?: Partial<LiveOptions> } = {},
): AdminConsole {
  const service = createConsoleService(ctx, options.oidc);
  const routes = Router();
  routes.use(consoleRoutes(ctx.config, service));
  routes.use(consoleAdminRoutes(service));
  routes.use(
    liveRoutes(
      { webhooks, bookings: createBookingsService(ctx), leads: createLeadsService(ctx), crm: createCrmService(ctx) },
      { pollMs: 1500, maxStreamMs: 5 * 60_000, ...options.live },
    ),
  );
  routes.use(consoleStatic(ctx.config));
  return { sessionAuth: consoleAuth(ctx.config, service, tenants), routes };
}
