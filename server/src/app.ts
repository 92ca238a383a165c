import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { adminAuth, tenantGate } from './admin/admin.auth.js';
import { tokensRoutes } from './admin/tokens.routes.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { createKeyRing } from './crypto/keyring.js';
import type { ChangeFeed } from './db/changes.js';
import type { Db } from './db/db.js';
import { healthRoutes } from './health/health.routes.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { notFoundHandler, problemHandler } from './http/problem.js';
import { requestLog } from './http/request-log.js';
import { bodyGuard, urlGuard } from './http/request-guard.js';
import { demoPage, securityHeaders, sourceMapGate } from './http/security-headers.js';
import type { Logger } from './logger.js';
import { tenantsRoutes } from './tenants/tenants.routes.js';
import { createCalcom } from './calcom/calcom.js';
import { calcomAdminRoutes } from './calcom/calcom.routes.js';
import { nativeBookingRoutes } from './calcom/native-booking.routes.js';
import { oauthRoutes } from './oauth/oauth.routes.js';
import { bookingsRoutes } from './bookings/bookings.routes.js';
import { createBookingsService } from './bookings/bookings.service.js';
import { webhookMetrics } from './webhooks/webhooks.metrics.js';
import { webhookAdminRoutes, webhookIntakeRoutes } from './webhooks/webhooks.routes.js';
import { webhookIntakeFastPath } from './webhooks/webhooks.fast-path.js';
import { createWebhooksService } from './webhooks/webhooks.service.js';
import { createTenantsService } from './tenants/tenants.service.js';
import { widgetRoutes } from './widget/widget.routes.js';
import { createWidgetService } from './widget/widget.service.js';
import { createWidgetConfigCache } from './widget/widget.config-cache.js';
import { widgetConfigFastPath } from './widget/widget.config-fast-path.js';
import { widgetAssetHeaders } from './widget/widget.static.js';
import { precompressed } from './http/precompressed.js';
import { sessionsRoutes } from './sessions/sessions.routes.js';
import { gdprRoutes } from './gdpr/gdpr.routes.js';
import { createGdprService } from './gdpr/gdpr.service.js';
import { createSessionsService } from './sessions/sessions.service.js';
import { crmRoutes } from './crm/crm.routes.js';
import { createCrmService } from './crm/crm.service.js';
import { leadsRoutes } from './leads/leads.routes.js';
import { createLeadsService } from './leads/leads.service.js';
import { nativeBookingAdmission, widgetSessionCheck } from './sessions/session-check.js';
import { createAdminConsole } from './console/console.js';

export interface AppDependencies {
  config: Config;
  db: Db;
  fetch: typeof globalThis.fetch;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** The change feed (db/changes.ts) that lets caches keep tenant data; main.ts starts one per process. */
  changes?: ChangeFeed;
}

/** JSON bodies larger than this are refused with 413 `payload_too_large`. */
const JSON_BODY_LIMIT = '100kb';

/** The shared parts every capability is built from; main.ts gives the same one to the app and the job worker. */
export function createContext(deps: AppDependencies): AppContext {
  return { ...deps, keyring: createKeyRing(deps.config.encryptionKeys), metrics: deps.metrics ?? createMetrics() };
}

/**
 * Builds the HTTP application from injected parts. Nothing here reads the
 * environment or reaches the network on its own, so tests run the same code
 * as production with their own database, fetch and clock.
 */
export function createApp(deps: AppDependencies | AppContext): Express {
  const ctx = 'keyring' in deps ? deps : createContext(deps);
  const tenants = createTenantsService(ctx, { cache: true });
  const calcom = createCalcom(ctx, tenants);
  const webhooks = createWebhooksService(ctx, tenants);
  const bookings = createBookingsService(ctx);
  const widget = createWidgetService(ctx);
  const sessions = createSessionsService(ctx, widget, tenants, calcom.native.slots);
  const widgetConfigs = createWidgetConfigCache({ tenants, widget, changes: ctx.changes });

  const app = express();
  app.disable('x-powered-by');
  // A hop count, so req.ip is the address our own proxy saw, not one the client wrote (sessions/client.ts).
  app.set('trust proxy', ctx.config.trustProxy > 0 ? ctx.config.trustProxy : false);
  app.set('query parser', 'simple');

  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
    next();
  });
  app.use(securityHeaders);
  app.use(requestLog(ctx.logger));
  app.use(ctx.metrics.middleware);
  app.use(healthRoutes(ctx));
  // NUL, unpaired surrogates and broken escapes in the path or query: 400 before any route (issue 13).
  app.use(urlGuard);

  // Routes that need the raw body (signed webhooks) are mounted before the JSON parser.
  app.use(webhookIntakeRoutes(webhooks, webhookMetrics(ctx.metrics.registry)));

  // The consent click's session request comes as a CORS "simple" request (a JSON text/plain body,
  // no custom header), so the browser sends it without a preflight: one round trip less between
  // the click and native mode's first free times. Nothing else is lost by it: the route refuses any
  // Origin the tenant has not registered before it does anything, and the preflight never stopped
  // a client that is not a browser (decision 0042).
  app.use('/v1/widget/:tenant/sessions', express.json({ limit: JSON_BODY_LIMIT, strict: true, type: 'text/plain' }));
  app.use(express.json({ limit: JSON_BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(bodyGuard);

  // Everything under /v1/admin needs an admin bearer token or a console session; routers keep full paths.
  const adminConsole = createAdminConsole(ctx, tenants, webhooks);
  app.use('/v1/admin', adminConsole.sessionAuth, adminAuth(ctx));
  // The one tenant gate: every /v1/admin/tenants/:slug/… route is authorised and resolved here, once.
  app.use('/v1/admin/tenants/:slug', tenantGate(tenants));
  app.use(adminConsole.routes);
  app.use('/v1/oauth/calcom/:tenant/start', adminConsole.sessionAuth);
  app.use(tenantsRoutes(tenants));
  app.use(tokensRoutes(ctx, tenants));
  // Public widget API: CORS for the tenant's registered origins on every /v1/widget/:tenant route, and the config.
  app.use(widgetRoutes(widgetConfigs));
  app.use(calcomAdminRoutes(calcom));
  app.use(oauthRoutes(ctx, calcom.oauth, tenants));
  app.use(nativeBookingRoutes(calcom.native, tenants, widgetSessionCheck(sessions), nativeBookingAdmission(sessions)));
  app.use(bookingsRoutes(bookings));
  app.use(sessionsRoutes(sessions, tenants));
  app.use(webhookAdminRoutes(webhooks));
  app.use(leadsRoutes(createLeadsService(ctx)));
  app.use(crmRoutes(createCrmService(ctx)));
  app.use(gdprRoutes(createGdprService(ctx, { calcom })));

  // The demo page with a strict policy (its inline script by hash), and source maps only when configured.
  app.use(demoPage(ctx.config.widgetDir, new URL(ctx.config.calcom.appUrl).origin));
  app.use(sourceMapGate(ctx.config.serveSourceMaps));
  // widget.js and its chunks are loaded cross-origin by client websites (module scripts use CORS);
  // their brotli or gzip copies (made at build time) go to browsers that accept them.
  app.use(precompressed(ctx.config.widgetDir, widgetAssetHeaders));
  app.use(express.static(ctx.config.widgetDir, { index: 'index.html', fallthrough: true, maxAge: '5m', setHeaders: widgetAssetHeaders }));

  app.use(notFoundHandler);
  app.use(problemHandler(ctx.logger));

  // Page views: a cached widget config is answered before Express sets the request up
  // (`app(req, res)` calls `app.handle`; widget/widget.config-fast-path.ts says why).
  // Cal.com deliveries likewise (webhooks/webhooks.fast-path.ts, decision 0031).
  const pageView = widgetConfigFastPath(widgetConfigs, ctx.metrics);
  const delivery = webhookIntakeFastPath(webhooks, { metrics: ctx.metrics, webhookMetrics: webhookMetrics(ctx.metrics.registry), logger: ctx.logger });
  const withHandle = app as unknown as { handle(req: IncomingMessage, res: ServerResponse, next?: unknown): void };
  const handle = withHandle.handle.bind(app);
  withHandle.handle = (req, res, next) => (pageView(req, res) || delivery(req, res) ? undefined : handle(req, res, next));
  return app;
}
