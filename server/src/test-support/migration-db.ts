import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadMigrations, migrate } from '../db/migrate.js';

/** The folder of the server's migrations. */
const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

function clusterUrl(): string {
  const url = process.env.CALBRIDGE_TEST_PG_URL;
  if (!url) throw new Error('CALBRIDGE_TEST_PG_URL is not set: run the suites through `npm test`, which starts a throwaway PostgreSQL');
  return url;
}

/** Runs `fn` on a superuser connection to the test cluster's maintenance database. */
async function clusterAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: clusterUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Databases as a deployment had them just before one migration, for testing what that migration
 * does to data already stored: `before()` makes a new database migrated up to the migration before
 * `migration`, with a pool as its (superuser) owner; `apply(url)` runs that migration (and those after it up to `through`); `close()` drops them all.
 */
export function databasesBefore(migration: string, through = migration) {
  const folder = mkdtempSync(join(tmpdir(), `calbridge-before-${migration.slice(0, 5)}`));
  const last = through;
  const throughDir = mkdtempSync(join(tmpdir(), `calbridge-through-${migration.slice(0, 5)}`));
  for (const m of loadMigrations()) {
    if (m.name < migration) copyFileSync(join(MIGRATIONS, m.name), join(folder, m.name));
    if (m.name <= last) copyFileSync(join(MIGRATIONS, m.name), join(throughDir, m.name));
  }
  const cleanups: Array<() => Promise<void>> = [];
  return {
    async before(): Promise<{ url: string; pool: pg.Pool }> {
      const name = `calbridge_m${migration.slice(0, 4)}_${randomBytes(5).toString('hex')}`;
      await clusterAdmin((c) => c.query(`CREATE DATABASE ${name}`));
      const u = new URL(clusterUrl());
      u.pathname = `/${name}`;
      const url = u.toString();
      await migrate(url, folder);
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      pool.on('error', () => undefined);
      cleanups.push(async () => {
        await pool.end().catch(() => undefined);
        await clusterAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      });
      return { url, pool };
    },
    /** Applies the migration (and those after it up to `through`, none later) to a database `before()` made; the names applied. */
    async apply(url: string): Promise<string[]> {
      return (await migrate(url, throughDir)).applied;
    },
    /**
     * Applies the migration (and those after it up to `through`) as an owner that is no superuser,
     * so row-level security is forced on it: a role made for the test owns `tables` (what an owner
     * that ran the earlier migrations has, with the schema to create in), and runs each file in a
     * transaction of its own. `probe` runs first as that role (a count: what it sees before any
     * tenant is set). Afterwards `tables` and `created` go back to the superuser, so the test sees
     * every row, and the role is dropped at close.
     */
    async applyAsOwner(pool: pg.Pool, tables: string[], created: string[], probe: string): Promise<{ seenBefore: number }> {
      const role = `calbridge_m${migration.slice(0, 4)}_owner_${randomBytes(4).toString('hex')}`;
      await pool.query(`CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOBYPASSRLS`);
      cleanups.push(() => clusterAdmin((c) => c.query(`DROP ROLE IF EXISTS ${role}`)).then(() => undefined));
      await pool.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}; ${tables.map((t) => `ALTER TABLE ${t} OWNER TO ${role}`).join('; ')}`);
      const files = loadMigrations().filter((m) => m.name >= migration && m.name <= last);
      const c = await pool.connect();
      let seenBefore = -1;
      try {
        for (const [i, m] of files.entries()) {
          await c.query('BEGIN');
          await c.query(`SET LOCAL ROLE ${role}`);
          if (i === 0) seenBefore = Number((await c.query<{ n: number }>(probe)).rows[0]!.n);
          await c.query(readFileSync(join(MIGRATIONS, m.name), 'utf8'));
          await c.query('COMMIT');
        }
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      } finally {
        c.release();
      }
      await pool.query([...tables, ...created].map((t) => `ALTER TABLE ${t} OWNER TO CURRENT_USER`).join('; '));
      return { seenBefore };
    },
    async close(): Promise<void> {
      for (const c of cleanups) await c();
      rmSync(folder, { recursive: true, force: true });
      rmSync(throughDir, { recursive: true, force: true });
    },
  };
}
