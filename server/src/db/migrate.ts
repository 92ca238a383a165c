import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMigrations as installJobQueue } from 'graphile-worker';
import pg from 'pg';

import { Logger as JobLogger } from 'graphile-worker';

const silentJobLogger = new JobLogger(() => () => undefined);

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}[a-z]?_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies pending migrations as the connecting (owner) role, each in its own
 * transaction, under an advisory lock so several instances starting together
 * apply each migration once. An applied migration whose file changed stops
 * start-up: history is never rewritten silently.
 */
export async function migrate(connectionString: string, dir = MIGRATIONS_DIR): Promise<{ applied: string[]; total: number }> {
  const migrations = loadMigrations(dir);
  // The job queue's own schema (graphile-worker keeps its migrations and its lock).
  await installJobQueue({ connectionString, logger: silentJobLogger });
  // Deadlines here too: another instance may hold the migration lock, or the server may not answer.
  // A migration's statements may run long on a large database, but not forever.
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: 10_000,
    query_timeout: 15 * 60_000,
    options: '-c lock_timeout=120000 -c statement_timeout=900000',
  });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('calbridge_migrations'))");
    await client.query(`CREATE TABLE IF NOT EXISTS calbridge_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Map(
      (await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM calbridge_migrations')).rows.map((r) => [
        r.name,
        r.checksum,
      ]),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      const prior = done.get(m.name);
      if (prior !== undefined) {
        if (prior !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO calbridge_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
    }
    // readyz asks, as the run-time role, whether every migration is in.
    await client.query('GRANT SELECT ON calbridge_migrations TO calbridge_app');
    return { applied, total: migrations.length };
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext('calbridge_migrations'))").catch(() => undefined);
    await client.end();
  }
}
