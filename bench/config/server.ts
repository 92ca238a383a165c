// The real server for bench:config: createApp with its change feed (so the config cache is
// on, as in production), on a real HTTP listener in a process of its own. Tells the parent
// its port over IPC.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/src/app.js';
import { systemClock } from '../../server/src/clock.js';
import { parseConfig, readEnvironment } from '../../server/src/config.js';
import { createChangeFeed } from '../../server/src/db/changes.js';
import { createDb } from '../../server/src/db/db.js';
import { createMetrics } from '../../server/src/http/metrics.js';
import { createLogger } from '../../server/src/logger.js';

const config = parseConfig(readEnvironment());
const logger = createLogger({ level: config.logLevel });
const db = createDb({ connectionString: config.databaseUrl!, max: config.databasePoolMax });
const changes = createChangeFeed({ connectionString: config.databaseUrl!, logger });
await changes.whenLive();
const app = createApp({ config, db, fetch: globalThis.fetch, clock: systemClock, logger, changes, metrics: createMetrics({ defaultMetrics: true }) });
const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => void changes.close().then(() => db.close()).then(() => process.exit(0))));
