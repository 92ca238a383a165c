// The real server for the benchmark: createApp on a real HTTP listener, run in
// its own process so the load generator does not share its event loop. Tells
// the parent its port over IPC.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/src/app.js';
import { systemClock } from '../../server/src/clock.js';
import { parseConfig, readEnvironment } from '../../server/src/config.js';
import { createDb } from '../../server/src/db/db.js';
import { createLogger } from '../../server/src/logger.js';

const config = parseConfig(readEnvironment());
const logger = createLogger({ level: config.logLevel });
const db = createDb({ connectionString: config.databaseUrl!, max: config.databasePoolMax });
const app = createApp({ config, db, fetch: globalThis.fetch, clock: systemClock, logger });
const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => void db.close().then(() => process.exit(0))));
