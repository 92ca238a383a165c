import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailable } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { createDb, DEFAULT_DB_TIMEOUTS, type Db } from './db.js';

// Nothing waits forever: every statement, lock and idle transaction has a deadline, and passing
// one is "the database is unavailable, try again" (503), never a hang.

let database: TestDatabase;
let db: Db;
const NO_TENANT = '00000000-0000-0000-0000-000000000000';

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.ownerUrl, max: 2, timeouts: { acquireMs: 1_000, statementMs: 300, lockMs: 200, idleInTransactionMs: 5_000 } });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe('database deadlines', () => {
  it('when a statement runs past the statement deadline, then it fails as database_unavailable', async () => {
    const err = await db.withTenant(NO_TENANT, (tx) => tx.query('SELECT pg_sleep(5)')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailable);
    expect((err as DatabaseUnavailable).code).toBe('database_unavailable');
  });

  it('when a lock is held longer than the lock deadline, then the waiter fails as database_unavailable', async () => {
    const holder = await database.owner.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE');
      const err = await db.withPlatform((tx) => tx.query('SELECT count(*) FROM tenants')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseUnavailable);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('when every connection is taken, then a further caller fails after the acquire deadline instead of queueing forever', async () => {
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    let inside = 0;
    let bothInside!: () => void;
    const taken = new Promise<void>((ok) => (bothInside = ok));
    const holders = [1, 2].map(() =>
      db.withTenant(NO_TENANT, () => {
        if (++inside === 2) bothInside();
        return held;
      }),
    );
    await taken;
    const err = await db.withTenant(NO_TENANT, (tx) => tx.query('SELECT 1')).catch((e: unknown) => e);
    release();
    await Promise.all(holders);
    expect(err).toBeInstanceOf(DatabaseUnavailable);
  });

  it('when the database accepts connections but never answers, then readiness says so within a second', async () => {
    // A loopback listener that takes the connection and stays silent, like a frozen server.
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as AddressInfo).port;
    const frozen = createDb({ connectionString: `postgres://nobody@127.0.0.1:${port}/none`, timeouts: { ...DEFAULT_DB_TIMEOUTS, acquireMs: 30_000 } });
    try {
      const started = performance.now();
      expect(await frozen.ready(1)).toBe(false);
      expect(performance.now() - started).toBeLessThan(1_500);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      await frozen.close().catch(() => undefined);
    }
  });

  it("when a connection's deadlines are read back, then each is set on the server", async () => {
    const settings = await db.withTenant(NO_TENANT, async (tx) =>
      (
        await tx.query<{ s: string; l: string; i: string }>(
          "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l, current_setting('idle_in_transaction_session_timeout') AS i",
        )
      ).rows[0],
    );
    expect(settings).toEqual({ s: '300ms', l: '200ms', i: '5s' });
  });

  it('when a tenant transaction or a library on the same pool asks whether statements may be JIT-compiled, then the server says off', async () => {
    // PostgreSQL 17 defaults to jit = on; a compile costs tens of ms on a statement that runs in a few (decision 0029).
    const inTransaction = await db.withTenant(NO_TENANT, async (tx) => (await tx.query<{ jit: string }>("SELECT current_setting('jit') AS jit")).rows[0]!.jit);
    const inSession = (await db.pool.query<{ jit: string }>("SELECT current_setting('jit') AS jit")).rows[0]!.jit;
    expect({ inTransaction, inSession }).toEqual({ inTransaction: 'off', inSession: 'off' });
  });
});
