import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../logger.js';

/** The channel the triggers of migration 0017 NOTIFY on. */
const CHANGES_CHANNEL = 'calbridge_changes';
/** The listener's application_name, so operators (and tests) can find its backend. */
export const CHANGES_APPLICATION_NAME = 'calbridge_changes';

/** Something a cache may hold changed: a tenant row or its Cal.com connection state. */
export const Change = z.object({
  table: z.string().max(64),
  tenantId: z.string().uuid(),
  slug: z.string().max(64).optional(),
});
export type Change = z.infer<typeof Change>;

interface ChangeSubscriber {
  /** A change committed (here or at another instance). */
  onChange(change: Change): void;
  /** Notifications may have been missed (the listener lost its connection): forget everything. */
  onReset(): void;
}

/**
 * Committed changes of tenant data, as every instance hears them: PostgreSQL
 * `LISTEN calbridge_changes` on a connection of its own. Caches may keep data only
 * while {@link ChangeFeed.live} is true; each loss of the connection resets every
 * subscriber (what was said meanwhile is lost) and the feed reconnects.
 */
export interface ChangeFeed {
  /** True while LISTEN is in place: every later commit will be heard. */
  readonly live: boolean;
  subscribe(s: ChangeSubscriber): () => void;
  /** Delivers a change to this instance's subscribers now (the writer's own, before its NOTIFY comes back). */
  emit(change: Change): void;
  /** Resolves once the feed is live (at once if it is); rejects after `timeoutMs` (default 10 s). */
  whenLive(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ChangeFeedOptions {
  connectionString: string;
  logger: Logger;
  /** How often the connection is checked with a query; a dead one is replaced. Default 15 s. */
  heartbeatMs?: number;
  /** Longest wait between reconnection attempts. Default 5 s. */
  maxBackoffMs?: number;
}

/** Starts listening; the feed is not live until the first LISTEN succeeded (see whenLive). */
export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const log = options.logger.child({ component: 'changes' });
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const subscribers = new Set<ChangeSubscriber>();
  let live = false;
  let closed = false;
  let client: pg.Client | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let backoffMs = 100;
  let waiters: (() => void)[] = [];

  const deliver = (change: Change) => {
    for (const s of subscribers) s.onChange(change);
  };
  const reset = () => {
    for (const s of subscribers) s.onReset();
  };

  function lost(c: pg.Client, why: string) {
    if (client !== c) return; // already replaced
    client = null;
    clearInterval(heartbeat);
    const wasLive = live;
    live = false;
    // Whatever was notified while nobody listened is gone: caches start over.
    reset();
    c.removeAllListeners('notification');
    c.on('error', () => undefined);
    c.end().catch(() => undefined);
    if (closed) return;
    if (wasLive) log.warn({ reason: why }, 'change listener lost its connection; caches cleared, reconnecting');
    retry = setTimeout(() => void connect(), backoffMs);
    backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({
      connectionString: options.connectionString,
      application_name: CHANGES_APPLICATION_NAME,
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
      keepAlive: true,
    });
    client = c;
    c.on('error', (err) => lost(c, err.message));
    c.on('end', () => lost(c, 'connection ended'));
    c.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(msg.payload);
      } catch {
        parsed = undefined;
      }
      const change = Change.safeParse(parsed);
      // A payload we cannot read could be about anything: forget everything rather than guess.
      if (change.success) deliver(change.data);
      else reset();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      lost(c, (err as Error).message);
      return;
    }
    if (client !== c || closed) return;
    // Anything cached before this point may predate a change nobody heard.
    reset();
    live = true;
    backoffMs = 100;
    heartbeat = setInterval(() => {
      c.query('SELECT 1').catch((err: Error) => lost(c, err.message));
    }, heartbeatMs);
    heartbeat.unref();
    const w = waiters;
    waiters = [];
    for (const ok of w) ok();
  }

  void connect();

  return {
    get live() {
      return live;
    },
    subscribe(s) {
      subscribers.add(s);
      return () => subscribers.delete(s);
    },
    emit: deliver,
    whenLive(timeoutMs = 10_000) {
      if (live) return Promise.resolve();
      return new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          fail(new Error(`the change listener did not connect within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          ok();
        };
        waiters.push(done);
      });
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      const c = client;
      client = null;
      live = false;
      reset();
      const w = waiters;
      waiters = [];
      for (const ok of w) ok();
      if (c) {
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
