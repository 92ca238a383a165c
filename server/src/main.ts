import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { createApp, createContext } from './app.js';
import { systemClock } from './clock.js';
import { ConfigError, parseConfig, readEnvironment, type Config } from './config.js';
import { createChangeFeed } from './db/changes.js';
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
  let embeddedPassword: string | undefined;
  if (embedded) {
    const dataDir = resolve(env.CALBRIDGE_DATA_DIR || '.calbridge');
    const { secrets, created } = loadOrCreateEmbeddedSecrets(dataDir);
    printAdminToken = created && !env.CALBRIDGE_ADMIN_TOKEN;
    embeddedPassword = secrets.CALBRIDGE_EMBEDDED_DATABASE_PASSWORD;
    // Values the operator set win over generated ones.
    const { CALBRIDGE_EMBEDDED_DATABASE_PASSWORD: _password, ...configurable } = secrets;
    env = { ...configurable, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v)), CALBRIDGE_DATA_DIR: dataDir };
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

  // Readable lines (on stderr) for a person at a terminal, as under `npm start`; JSON for collectors and files.
  const logger = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY === true });
  const pg = embedded ? await startEmbeddedPostgres({ dataDir: config.dataDir, password: embeddedPassword! }) : null;
  if (pg) logger.info({ port: pg.port, dataDir: pg.dataDir }, 'embedded PostgreSQL started (loopback only, password required)');
  const databaseUrl = pg?.url ?? config.databaseUrl!;
  // The embedded database stops with us, also when start-up fails after it started.
  const stopDatabase = async () => pg?.stop().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'embedded PostgreSQL did not stop cleanly'));
  try {
    await serve(config, logger, databaseUrl, embedded, printAdminToken, stopDatabase);
  } catch (err) {
    await stopDatabase();
    throw err;
  }
}

async function serve(
  config: Config,
  logger: ReturnType<typeof createLogger>,
  databaseUrl: string,
  embedded: boolean,
  printAdminToken: boolean,
  stopDatabase: () => Promise<unknown>,
): Promise<void> {
  // Migrations (advisory lock), the job worker and the change listener (LISTEN) need a session.
  const sessionUrl = (!embedded && config.databaseSessionUrl) || databaseUrl;
  const { applied, total } = await migrate(sessionUrl);
  logger.info({ applied, total, embedded }, 'migrations applied');

  // The same pool, named statements, deadlines and worker concurrency whether the database is
  // embedded or not: the embedded default is production's database (decision 0012).
  const db = createDb({
    connectionString: databaseUrl,
    max: config.databasePoolMax,
    timeouts: config.databaseTimeouts,
    namedStatements: config.databaseNamedStatements,
    onError: (err) => logger.warn({ err: err.message }, 'database connection failed'),
  });
  const metrics = createMetrics({ defaultMetrics: true });
  // LISTEN for committed tenant changes, so the page-view path may cache (decision 0018).
  const changes = createChangeFeed({ connectionString: sessionUrl, logger });
  const ctx = createContext({ config, db, fetch: globalThis.fetch, clock: systemClock, logger, metrics, changes });
  const app = createApp(ctx);
  const worker = await startWorker({
    connectionString: sessionUrl,
    handlers: jobHandlers(ctx),
    crontab: jobCrontab(config),
    logger,
    concurrency: config.jobConcurrency,
    timeouts: config.databaseTimeouts,
    registry: metrics.registry,
  });
  await jobsOnWorkerStart(ctx);

  const server = createServer(app);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((ok) => server.listen(config.port, config.host, ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, embedded }, 'listening');
  // Behind a proxy or in a container the listening port is not where people reach it: PUBLIC_URL is.
  process.stdout.write(`\nCalbridge is running: open ${config.publicUrl}/ (listening on ${config.host}:${port})\n`);
  if (embedded) process.stdout.write(`Embedded PostgreSQL in ${config.dataDir}/postgres (set DATABASE_URL to use your own PostgreSQL)\n`);
  if (printAdminToken) {
    process.stdout.write(`Admin token (shown once; also kept in ${config.dataDir}/secrets.json): ${config.adminToken}\n`);
  }

  // SIGTERM: stop accepting, finish requests in flight and the worker's running jobs (bounded),
  // close the pool, stop the embedded database. A second signal, or the bound, ends it at once.
  // A terminal's Ctrl-C reaches every process of the group and `npm start` also forwards it, so one
  // request can arrive twice within milliseconds: only a signal a moment after the first is a second one.
  let stopping = false;
  let firstSignalAt = 0;
  const shutdown = async (signal: string) => {
    if (stopping && Date.now() - firstSignalAt < 500) return;
    if (stopping) {
      logger.warn({ signal }, 'second signal: stopping now');
      server.closeAllConnections();
      await stopDatabase();
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    firstSignalAt = Date.now();
    logger.info({ signal, boundMs: config.shutdownTimeoutMs }, 'shutting down: finishing requests and jobs in flight');
    const bound = setTimeout(() => {
      logger.warn({ boundMs: config.shutdownTimeoutMs }, 'shutdown bound reached: closing what is left');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    bound.unref();
    const started = Date.now();
    const httpClosed = new Promise<void>((ok) => server.close(() => ok()));
    server.closeIdleConnections();
    await Promise.all([httpClosed, worker.stop(Math.max(1_000, config.shutdownTimeoutMs - 1_000))]);
    clearTimeout(bound);
    await changes.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    await stopDatabase();
    logger.info({ ms: Date.now() - started }, 'stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`calbridge: failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
