import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { createApp, createContext } from './app.js';
import { systemClock } from './clock.js';
import { ConfigError, parseConfig, readEnvironment } from './config.js';
import { createDb } from './db/db.js';
import { migrate } from './db/migrate.js';
import { startEmbeddedPostgres } from './embedded/postgres.js';
import { loadOrCreateEmbeddedSecrets } from './embedded/secrets.js';
import { createMetrics } from './http/metrics.js';
import { jobCrontab, jobHandlers, jobsOnWorkerStart } from './jobs/handlers.js';
import { startWorker } from './jobs/queue.js';
import { createLogger } from './logger.js';

/** Wires the real database, fetch, clock and logger to the app and serves it. */
async function main(): Promise<void> {
  let env = readEnvironment();
  const embedded = !env.DATABASE_URL;
  let printAdminToken = false;
  if (embedded) {
    const dataDir = resolve(env.CALBRIDGE_DATA_DIR || '.calbridge');
    const { secrets, created } = loadOrCreateEmbeddedSecrets(dataDir);
    printAdminToken = created && !env.CALBRIDGE_ADMIN_TOKEN;
    // Values the operator set win over generated ones.
    env = { ...secrets, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v)), CALBRIDGE_DATA_DIR: dataDir };
  }

  let config;
  try {
    config = parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`calbridge: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const logger = createLogger({ level: config.logLevel });
  const pg = embedded ? await startEmbeddedPostgres(config.dataDir) : null;
  const databaseUrl = pg?.url ?? config.databaseUrl!;
  const { applied, total } = await migrate(databaseUrl);
  logger.info({ applied, total, embedded }, 'migrations applied');

  const db = createDb({
    connectionString: databaseUrl,
    max: embedded ? 2 : config.databasePoolMax,
    namedStatements: !embedded,
    onError: (err) => logger.warn({ err: err.message }, 'idle database connection failed'),
  });
  const ctx = createContext({ config, db, fetch: globalThis.fetch, clock: systemClock, logger, metrics: createMetrics({ defaultMetrics: true }) });
  const app = createApp(ctx);
  const worker = await startWorker({ connectionString: databaseUrl, handlers: jobHandlers(ctx), crontab: jobCrontab(), logger, concurrency: embedded ? 1 : 4 });
  await jobsOnWorkerStart(ctx);

  const server = createServer(app);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((ok) => server.listen(config.port, config.host, ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, embedded }, 'listening');
  process.stdout.write(`\nCalbridge is running: open http://localhost:${port}/\n`);
  if (embedded) process.stdout.write(`Embedded database in ${config.dataDir}/pgdata (set DATABASE_URL to use your own PostgreSQL)\n`);
  if (printAdminToken) {
    process.stdout.write(`Admin token (shown once; also kept in ${config.dataDir}/secrets.json): ${config.adminToken}\n`);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Stop accepting, let in-flight requests finish, then close the pool.
    server.close(async () => {
      await worker.stop().catch(() => undefined);
      await db.close().catch(() => undefined);
      await pg?.stop().catch(() => undefined);
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn('forcing shutdown after 10 s');
      server.closeAllConnections();
    }, 10_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`calbridge: failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
