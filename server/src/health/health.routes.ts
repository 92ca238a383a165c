import { Router } from 'express';
import type { AppContext } from '../context.js';
import { loadMigrations } from '../db/migrate.js';
import { safeEqual } from '../crypto/tokens.js';
import { NotFound, Unauthorized } from '../errors.js';

/** `/healthz` (the process answers), `/readyz` (database reachable, migrations in), `/metrics`. */
export function healthRoutes(ctx: Pick<AppContext, 'db' | 'metrics' | 'config'>): Router {
  const router = Router();
  const expected = loadMigrations().length;

  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const ready = await ctx.db.ready(expected);
    res.set('Cache-Control', 'no-store').status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready' });
  });

  // Not public (issue 13, finding 9): only with `Authorization: Bearer $CALBRIDGE_METRICS_TOKEN`,
  // and not at all (404, as if absent) when no token is configured.
  router.get('/metrics', async (req, res) => {
    const token = ctx.config.metricsToken;
    if (!token) throw new NotFound();
    const m = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    if (!m || !safeEqual(m[1]!, token)) throw new Unauthorized('The metrics bearer token is required.');
    res.set({ 'Content-Type': ctx.metrics.registry.contentType, 'Cache-Control': 'no-store' }).send(await ctx.metrics.registry.metrics());
  });

  return router;
}
