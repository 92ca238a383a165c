import type { Config } from './config.js';
import type { Clock } from './clock.js';
import type { KeyRing } from './crypto/keyring.js';
import type { ChangeFeed } from './db/changes.js';
import type { Db } from './db/db.js';
import type { Metrics } from './http/metrics.js';
import type { Logger } from './logger.js';

/** What every capability's routes and services are built from; all of it injected. */
export interface AppContext {
  config: Config;
  db: Db;
  fetch: typeof globalThis.fetch;
  clock: Clock;
  logger: Logger;
  keyring: KeyRing;
  metrics: Metrics;
  /** Committed changes heard from PostgreSQL (LISTEN); without it nothing is cached across requests. */
  changes?: ChangeFeed | undefined;
}
