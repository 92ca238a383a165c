import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { createApp } from '../app.js';
import type { Clock } from '../clock.js';
import { parseConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_ADMIN_TOKEN = `cbt_test_${'a'.repeat(40)}`;
const TEST_METRICS_TOKEN = `metrics_test_${'m'.repeat(40)}`;
/** The header `/metrics` needs in tests. */
export const asMetrics = { Authorization: `Bearer ${TEST_METRICS_TOKEN}` };

/** A clock tests move by hand. */
export function manualClock(start = new Date('2026-11-25T10:00:00.000Z')): Clock & { set(d: Date | string): void; advance(ms: number): void } {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set: (d) => {
      now = new Date(d);
    },
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

/** A logger whose every line is kept, so tests can assert what never reaches a log. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

/** A fetch that refuses every call: tests opt in to the outside world explicitly. */
export const offlineFetch: typeof fetch = async (input) => {
  throw new Error(`network disabled in tests: ${String(input instanceof Request ? input.url : input)}`);
};

/**
 * An app's own data directory, inside the run's folder (test-support/data-root.setup.ts removes it at the end:
 * a run of the suites makes hundreds of apps), or in the temp dir when run another way.
 */
const appDataDir = (): string => mkdtempSync(join(process.env.CALBRIDGE_TEST_DATA_ROOT ?? tmpdir(), 'calbridge-app-'));

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({
    CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    CALBRIDGE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    CALBRIDGE_METRICS_TOKEN: TEST_METRICS_TOKEN,
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    LOG_LEVEL: 'debug',
    // Each app's own data directory (the webhook spool lives there), never the checkout's.
    CALBRIDGE_DATA_DIR: appDataDir(),
    ...overrides,
  });
}

export interface TestApp {
  app: Express;
  database: TestDatabase;
  config: Config;
  clock: ReturnType<typeof manualClock>;
  logLines: string[];
  close(): Promise<void>;
}

/** The real app on a fresh database, offline, with a manual clock and captured logs. */
export async function createTestApp(options: { env?: Record<string, string>; fetch?: typeof fetch; database?: TestDatabase } = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig({ DATABASE_URL: database.ownerUrl, ...options.env });
  const clock = manualClock();
  const { logger, lines } = capturingLogger();
  const app = createApp({ config, db: database.db, fetch: options.fetch ?? offlineFetch, clock, logger });
  return {
    app,
    database,
    config,
    clock,
    logLines: lines,
    close: async () => {
      // The app's own data directory (its webhook spool) goes with it.
      rmSync(config.dataDir, { recursive: true, force: true });
      if (!options.database) await database.drop();
    },
  };
}

export const asAdmin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/**
 * supertest's `.parse()` for a body kept as the bytes that came (a zip, a script), unparsed:
 * `request(app).get(path).buffer(true).parse(rawBody)`, then `res.body` is a Buffer.
 */
export function rawBody(res: Pick<NodeJS.EventEmitter, 'on'>, done: (err: Error | null, body: Buffer) => void): void {
  const parts: Buffer[] = [];
  res.on('data', (c: Buffer) => parts.push(c));
  res.on('end', () => done(null, Buffer.concat(parts)));
}
