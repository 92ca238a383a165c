import { Router } from 'express';
import type { AppContext } from '../context.js';
import { loadMigrations } from '../db/migrate.js';

/** `/healthz` (the process answers), `/readyz` (database reachable, migrations in), `/metrics`. */
export function healthRoutes(ctx: Pick<AppContext, 'db' | 'metrics'>): Router {
  const router = Router();
  const expected = loadMigrations().length;

  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const ready = await ctx.db.ready(expected);
    res.set('Cache-Control', 'no-store').status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready' });
  });

  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  return router;
}
