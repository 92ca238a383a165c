import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from '../db/db.js';
import { migrate } from '../db/migrate.js';

/** The throwaway cluster `npm test` starts; tests never run against anything else. */
export function testClusterUrl(): string {
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

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = testClusterUrl();
  const name = `calbridge_test_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const ownerUrl = url.toString();
  await migrate(ownerUrl);
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
