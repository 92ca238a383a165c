import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadMigrations, migrate } from '../db/migrate.js';

/** The folder of the server's migrations. */
export const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

function clusterUrl(): string {
  const url = process.env.CALBRIDGE_TEST_PG_URL;
  if (!url) throw new Error('CALBRIDGE_TEST_PG_URL is not set: run the suites through `npm test`, which starts a throwaway PostgreSQL');
  return url;
}

/** Runs `fn` on a superuser connection to the test cluster's maintenance database. */
export async function clusterAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
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
    /** Something else to undo at close (a role made for the test). */
    onClose(fn: () => Promise<void>): void {
      cleanups.push(fn);
    },
    async close(): Promise<void> {
      for (const c of cleanups) await c();
      rmSync(folder, { recursive: true, force: true });
      rmSync(throughDir, { recursive: true, force: true });
    },
  };
}
