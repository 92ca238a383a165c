// The real app as a bench's server process runs it: createApp with its change feed (so the caches
// are on, as in production), configured from the environment like `npm run serve`.
import { createApp } from '../../server/src/app.js';
import { systemClock } from '../../server/src/clock.js';
import { parseConfig, readEnvironment } from '../../server/src/config.js';
import { createChangeFeed } from '../../server/src/db/changes.js';
import { createDb } from '../../server/src/db/db.js';
import { createMetrics } from '../../server/src/http/metrics.js';
import { createLogger } from '../../server/src/logger.js';

export async function realApp() {
  const config = parseConfig(readEnvironment());
  const logger = createLogger({ level: config.logLevel });
  const db = createDb({ connectionString: config.databaseUrl!, max: config.databasePoolMax });
  const changes = createChangeFeed({ connectionString: config.databaseUrl!, logger });
  await changes.whenLive();
  const app = createApp({ config, db, fetch: globalThis.fetch, clock: systemClock, logger, changes, metrics: createMetrics({ defaultMetrics: true }) });
  return { app, close: () => changes.close().then(() => db.close()) };
}
