import pg from 'pg';
import { DatabaseUnavailable } from '../errors.js';

/** A connection inside a transaction; repositories take one of these. */
export type Tx = pg.PoolClient;

const APP_ROLE = 'calbridge_app';

const STATEMENT_SUFFIX = Symbol('calbridge.statementSuffix');
let nextStatementSuffix = 0;

/**
 * A name under which a hot statement is prepared once per connection, so PostgreSQL
 * parses and plans it once instead of on every call (the webhook intake's CTEs cost
 * more to plan than to run). Undefined, which `pg` treats as unnamed, where the
 * database was created without named statements (e.g. behind PgBouncer in transaction mode,
 * where one client's statements can meet another server connection). The name carries a
 * number of the connection's own, so two clients that ever land on one backend cannot collide.
 */
export function statementName(tx: Tx, name: string): string | undefined {
  const suffix = (tx as Tx & { [STATEMENT_SUFFIX]?: string })[STATEMENT_SUFFIX];
  return suffix === undefined ? undefined : `${name}_${suffix}`;
}

/**
 * An opening for `db.withTenant(id, fn, GENERIC_PLANS)`: the transaction's named statements
 * ({@link statementName}) run a generic plan, made once per connection and kept, instead of a
 * plan made for every call's values. For statements that cost more to plan than to run and whose
 * best plan does not depend on the values, such as the GDPR subject search's (about 15 statements,
 * each planned in 0.2–0.8 ms and run in 0.1; decision 0039). Transaction-local, like every setting
 * here; without named statements PostgreSQL makes the same generic plan at every call.
 */
export const GENERIC_PLANS = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";

/**
 * The database as the application sees it. Every query runs as the
 * row-level-security-bound role `calbridge_app` inside a transaction that
 * names its tenant; there is no other way to get a connection.
 */
export interface Db {
  /**
   * Runs `fn` in a transaction where only `tenantId`'s rows exist. `opening`: statements
   * sent in the transaction's opening round trip, after the role and tenant are set (hot
   * paths save a round trip with it); they take no parameters, so the caller builds them from
   * values it has validated. Their results reach `fn` as `opened`, one per statement; a
   * wrapper that drops `opening` gives `fn` none, and `fn` must then run them itself.
   */
  withTenant<T>(tenantId: string, fn: (tx: Tx, opened?: pg.QueryResult[]) => Promise<T>, opening?: string): Promise<T>;
  /**
   * Runs `fn` in a transaction that sees the tenant directory and admin tokens
   * across tenants, and no tenant-owned data. For resolving a slug or a token.
   */
  withPlatform<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Resolves when the database answers and every migration is applied. */
  ready(expectedMigrations: number): Promise<boolean>;
  close(): Promise<void>;
  readonly pool: pg.Pool;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006', '40001', '40P01',
  // Our own deadlines: statement_timeout (57014), lock_timeout (55P03), idle_in_transaction_session_timeout (25P03).
  '57014', '55P03', '25P03',
]);

/** True when an error means "try again later" rather than "this request is wrong". */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|Query read timeout/i.test(
    err.message,
  );
}

/** Deadlines every connection works under, so nothing waits forever (README: configuration). */
export interface DbTimeouts {
  /** Longest wait for a connection from the pool. */
  acquireMs: number;
  /** Longest a statement may run on the server (`statement_timeout`). */
  statementMs: number;
  /** Longest wait for a lock (`lock_timeout`). */
  lockMs: number;
  /** Longest a transaction may sit idle (`idle_in_transaction_session_timeout`). */
  idleInTransactionMs: number;
}

export const DEFAULT_DB_TIMEOUTS: DbTimeouts = { acquireMs: 3_000, statementMs: 5_000, lockMs: 3_000, idleInTransactionMs: 15_000 };

/**
 * What the client waits for an answer beyond the server's own statement deadline: a server
 * that is frozen or cut off never sends the cancellation, so the client stops waiting itself.
 */
const CLIENT_GRACE_MS = 1_000;

/**
 * JIT compilation off, for every statement we send, whatever the server's default. PostgreSQL 17
 * ships with `jit = on`: a statement whose *estimated* cost passes `jit_above_cost` (100,000) is
 * compiled with LLVM first, which costs tens of milliseconds, while every statement here reads
 * one tenant's rows through an index in a few milliseconds at most; an estimate inflated by a
 * large table is enough to trigger it (issue 16, docs/decisions/0029-scale-tail-latency.md).
 * Set by the application rather than left to the server's configuration so the embedded
 * cluster (whose binaries carry no LLVM) and a deployment's own PostgreSQL behave alike.
 */
const JIT_OFF = 'off';

/**
 * The server-side deadlines (and {@link JIT_OFF}) as connection startup options: in force for every
 * statement of the session, including those a library (graphile-worker) sends. PgBouncer in transaction
 * mode drops startup options; `transaction()` sets them again per transaction for that reason.
 */
function timeoutStartupOptions(t: DbTimeouts): string {
  return `-c statement_timeout=${t.statementMs} -c lock_timeout=${t.lockMs} -c idle_in_transaction_session_timeout=${t.idleInTransactionMs} -c jit=${JIT_OFF}`;
}

/** pg.Pool settings that bound every wait: acquiring, each query on the client side, and the server's deadlines. */
export function boundedPoolConfig(t: DbTimeouts): Pick<pg.PoolConfig, 'connectionTimeoutMillis' | 'query_timeout' | 'options'> {
  return {
    connectionTimeoutMillis: t.acquireMs,
    query_timeout: t.statementMs + CLIENT_GRACE_MS,
    options: timeoutStartupOptions(t),
  };
}

export interface CreateDbOptions {
  connectionString: string;
  max?: number;
  /** Deadlines; {@link DEFAULT_DB_TIMEOUTS} by default. */
  timeouts?: DbTimeouts;
  onError?: (err: Error) => void;
  /** Prepare hot statements by name ({@link statementName}); default true. */
  namedStatements?: boolean;
}

/** How long `/readyz` waits for the database before it says "not ready". */
const READY_DEADLINE_MS = 900;

export function createDb(options: CreateDbOptions): Db {
  const timeouts = options.timeouts ?? DEFAULT_DB_TIMEOUTS;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    ...boundedPoolConfig(timeouts),
  });
  // SET LOCAL as set_config(…, true), all in one statement: the same transaction-local settings
  // (`role` is the GUC SET ROLE sets, with the same membership check) for one statement's parse
  // and execution instead of five.
  const localSettings = [
    ['role', APP_ROLE],
    ['statement_timeout', String(timeouts.statementMs)],
    ['lock_timeout', String(timeouts.lockMs)],
    ['idle_in_transaction_session_timeout', String(timeouts.idleInTransactionMs)],
    ['jit', JIT_OFF],
  ] as const;
  pool.on('error', (err) => options.onError?.(err));
  pool.on('connect', (client) => client.on('error', (err) => options.onError?.(err)));

  async function transaction<T>(settings: [string, string][], fn: (tx: Tx, opened?: pg.QueryResult[]) => Promise<T>, opening?: string): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new DatabaseUnavailable(err);
    }
    if (options.namedStatements !== false && !(STATEMENT_SUFFIX in client)) {
      (client as pg.PoolClient & { [STATEMENT_SUFFIX]?: string })[STATEMENT_SUFFIX] = String(nextStatementSuffix++);
    }
    let broken = false;
    try {
      // Per transaction, not per session: nothing leaks to the connection's next user, and it
      // holds behind PgBouncer in transaction mode. One simple-protocol round trip: every request pays it.
      // The role comes first in the list: the tenant setting and everything after run as calbridge_app.
      const set = [...localSettings, ...settings].map(([name, value]) => `set_config(${client.escapeLiteral(name)}, ${client.escapeLiteral(value)}, true)`).join(', ');
      const results = await client.query(`BEGIN; SELECT ${set}${opening ? `; ${opening}` : ''}`);
      // pg answers a multi-statement query with one result per statement: BEGIN, the settings, then the caller's.
      const opened = opening ? (results as unknown as pg.QueryResult[]).slice(2) : undefined;
      const result = await fn(client, opened);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isUnavailable(err)) {
        // No ROLLBACK on a connection that timed out or broke: it would wait out another deadline.
        // Destroying the connection ends the transaction on the server.
        broken = true;
        throw new DatabaseUnavailable(err);
      }
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  return {
    pool,
    withTenant(tenantId, fn, opening) {
      return transaction([['app.tenant_id', tenantId]], fn, opening);
    },
    withPlatform(fn) {
      return transaction([['app.scope', 'platform']], fn);
    },
    async ready(expectedMigrations) {
      // Answers within a second whatever the database does: a frozen server or a pool whose
      // connections are all stuck is "not ready", not a hanging probe.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((ok) => {
        timer = setTimeout(() => ok(false), READY_DEADLINE_MS);
      });
      const probe = pool
        .query<{ n: number }>('SELECT count(*)::int AS n FROM calbridge_migrations')
        .then((r) => (r.rows[0]?.n ?? 0) >= expectedMigrations)
        .catch(() => false);
      try {
        return await Promise.race([probe, deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
