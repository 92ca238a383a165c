import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from '../db/db.js';
import { loadMigrations, migrate } from '../db/migrate.js';

/** The throwaway cluster `npm test` starts; tests never run against anything else. */
function testClusterUrl(): string {
  const url = process.env.CALBRIDGE_TEST_PG_URL;
  if (!url) throw new Error('CALBRIDGE_TEST_PG_URL is not set: run the suites through `npm test`, which starts a throwaway PostgreSQL');
  return url;
}

export interface TestDatabase {
  /** Owner (superuser) connection string: for arranging and inspecting, never for the code under test. */
  ownerUrl: string;
  /** The app's database handle: runs as calbridge_app under row-level security. */
  db: Db;
  /** A pool connected as the owner, for assertions that must see every row. */
  owner: pg.Pool;
  name: string;
  drop(): Promise<void>;
}

/** The name of the migrated template for the current migration files (one per cluster and set of migrations). */
function templateName(): string {
  const h = createHash('sha256');
  for (const m of loadMigrations()) h.update(m.name).update(m.checksum);
  return `calbridge_tpl_${h.digest('hex').slice(0, 16)}`;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Migrates the template once per cluster (test files race for it under an advisory lock), so each
 * test database is a cheap copy (`CREATE DATABASE … TEMPLATE`) instead of two dozen migrations.
 */
async function ensureTemplate(admin: string): Promise<string> {
  const name = templateName();
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query("SELECT pg_advisory_lock(hashtext('calbridge_test_template'))");
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_building`;
      await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${building}`);
      await migrate(withDatabase(admin, building));
      await c.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    }
    return name;
  } finally {
    await c.query("SELECT pg_advisory_unlock(hashtext('calbridge_test_template'))").catch(() => undefined);
    await c.end();
  }
}

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = testClusterUrl();
  const template = await ensureTemplate(admin);
  const name = `calbridge_test_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    // Copies of one template made at the same moment can meet each other's lock on it: try again.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (err) {
        if (attempt >= 50 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((ok) => setTimeout(ok, 20 + Math.random() * 80));
      }
    }
  } finally {
    await c.end();
  }
  const ownerUrl = withDatabase(admin, name);
  const db = createDb({ connectionString: ownerUrl, max: 10 });
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 3 });
  // DROP … WITH (FORCE) ends connections a test left open; that is expected, not a failure.
  owner.on('error', () => undefined);
  return {
    ownerUrl,
    db,
    owner,
    name,
    async drop() {
      await db.close().catch(() => undefined);
      await owner.end().catch(() => undefined);
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

/**
 * Every row of every table in the test database (all schemas but the system ones) as text, the
 * way PostgreSQL prints a row: bytea as hex, json as text. Read over SQL, so the suites need no
 * `pg_dump` beside the server binaries.
 */
export async function dumpDatabase(ownerUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    const { rows: tables } = await c.query<{ n: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS n FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    const parts: string[] = [];
    for (const { n } of tables) {
      const { rows } = await c.query<{ r: string }>(`SELECT t::text AS r FROM ${n} t`);
      parts.push(`-- ${n}`, ...rows.map((r) => r.r));
    }
    return parts.join('\n');
  } finally {
    await c.end();
  }
}
