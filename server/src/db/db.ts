import pg from 'pg';
import { DatabaseUnavailable } from '../errors.js';

/** A connection inside a transaction; repositories take one of these. */
export type Tx = pg.PoolClient;

export const APP_ROLE = 'calbridge_app';

const STATEMENT_SUFFIX = Symbol('calbridge.statementSuffix');
let nextStatementSuffix = 0;

/**
 * A name under which a hot statement is prepared once per connection, so PostgreSQL
 * parses and plans it once instead of on every call (the webhook intake's CTEs cost
 * more to plan than to run). Undefined, which `pg` treats as unnamed, where the
 * database was created without named statements. The name carries a number of the
 * connection's own, so clients that share one backend cannot collide.
 */
export function statementName(tx: Tx, name: string): string | undefined {
  const suffix = (tx as Tx & { [STATEMENT_SUFFIX]?: string })[STATEMENT_SUFFIX];
  return suffix === undefined ? undefined : `${name}_${suffix}`;
}

/**
 * The database as the application sees it. Every query runs as the
 * row-level-security-bound role `calbridge_app` inside a transaction that
 * names its tenant; there is no other way to get a connection.
 */
export interface Db {
  /** Runs `fn` in a transaction where only `tenantId`'s rows exist. */
  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
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
]);

/** True when an error means "try again later" rather than "this request is wrong". */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
    err.message,
  );
}

export interface CreateDbOptions {
  connectionString: string;
  max?: number;
  /** Fails a query that waits longer than this for a connection. */
  connectionTimeoutMillis?: number;
  onError?: (err: Error) => void;
  /**
   * Prepare hot statements by name ({@link statementName}); default true. Off for the embedded
   * database: its clients share one backend, where the statements of every client that ever
   * connected would stay prepared.
   */
  namedStatements?: boolean;
}

export function createDb(options: CreateDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  // A client losing its connection must not crash the process: idle ones
  // report through the pool; a checked-out one between queries (the pool
  // takes its idle listener off) through its own listener. The pending or
  // next query then fails and the transaction maps it to DatabaseUnavailable.
  pool.on('error', (err) => options.onError?.(err));
  pool.on('connect', (client) => client.on('error', (err) => options.onError?.(err)));

  async function transaction<T>(settings: [string, string][], fn: (tx: Tx) => Promise<T>): Promise<T> {
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
      // Per transaction, not per session: the role cannot leak to another
      // caller of a shared connection (pglite-socket multiplexes one backend).
      // One simple-protocol round trip instead of three: every request pays it.
      await client.query(
        ['BEGIN', `SET LOCAL ROLE ${APP_ROLE}`, ...settings.map(([name, value]) => `SELECT set_config(${client.escapeLiteral(name)}, ${client.escapeLiteral(value)}, true)`)].join('; '),
      );
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (isUnavailable(err)) {
        broken = true;
        throw new DatabaseUnavailable(err);
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  return {
    pool,
    withTenant(tenantId, fn) {
      return transaction([['app.tenant_id', tenantId]], fn);
    },
    withPlatform(fn) {
      return transaction([['app.scope', 'platform']], fn);
    },
    async ready(expectedMigrations) {
      try {
        const r = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM calbridge_migrations');
        return (r.rows[0]?.n ?? 0) >= expectedMigrations;
      } catch {
        return false;
      }
    },
    async close() {
      await pool.end();
    },
  };
}
