import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { databasesBefore } from '../test-support/migration-db.js';

// Migration 0020 on a deployment that already has several tenants connected to one Cal.com
// account (decision 0034): before the unique index can exist, all but one of them must let go.
// The database is migrated up to the migration before, the duplicates are stored, then 0020 runs.

const THIS_ONE = '0020_one_tenant_per_calcom_account.sql';
const HOUR = 3_600_000;

const databases = databasesBefore(THIS_ONE);
/** A new database migrated up to the migration before 0020, with a pool as its (superuser) owner. */
const databaseBefore0020 = () => databases.before();

interface Seeded {
  slug: string;
  userId: number;
  status: 'connected' | 'needs_reauth';
  connectedHoursAgo: number;
  refreshedHoursAgo?: number;
  reason?: string;
}

/**
 * Three Cal.com users: 100 held by a, b and c (a refreshed last; c already needs re-authorisation),
 * 200 by d and e (neither refreshed; e connected last), 300 by f alone.
 */
const SEEDED: Seeded[] = [
  { slug: 'a', userId: 100, status: 'connected', connectedHoursAgo: 72, refreshedHoursAgo: 1 },
  { slug: 'b', userId: 100, status: 'connected', connectedHoursAgo: 48 },
  { slug: 'c', userId: 100, status: 'needs_reauth', connectedHoursAgo: 24, refreshedHoursAgo: 0.5, reason: 'refresh_token_revoked' },
  { slug: 'd', userId: 200, status: 'connected', connectedHoursAgo: 120 },
  { slug: 'e', userId: 200, status: 'connected', connectedHoursAgo: 24 },
  { slug: 'f', userId: 300, status: 'connected', connectedHoursAgo: 200, refreshedHoursAgo: 100 },
];

/** Stores the tenants and their connections as they were before 0020 (as superuser: no policy applies). */
async function seed(pool: pg.Pool): Promise<Date> {
  const now = Date.now();
  const ago = (hours: number) => new Date(now - hours * HOUR);
  const updatedAt = ago(500);
  for (const s of SEEDED) {
    const { rows } = await pool.query<{ id: string }>('INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id', [s.slug]);
    await pool.query(
      `INSERT INTO calcom_connections (tenant_id, kind, status, calcom_user_id, calcom_username, tokens_ciphertext, key_id,
         access_expires_at, connected_at, refreshed_at, reauth_reason, updated_at)
       VALUES ($1, 'oauth', $2, $3, 'owner', 'v1.sealed', 'k1', $4, $5, $6, $7, $8)`,
      [rows[0]!.id, s.status, s.userId, ago(-0.5), ago(s.connectedHoursAgo), s.refreshedHoursAgo === undefined ? null : ago(s.refreshedHoursAgo), s.reason ?? null, updatedAt],
    );
  }
  return updatedAt;
}

async function outcome(pool: pg.Pool): Promise<Record<string, { status: string; reason: string | null; touched: boolean }>> {
  const { rows } = await pool.query<{ slug: string; status: string; reauth_reason: string | null; updated_at: Date }>(
    'SELECT t.slug, c.status, c.reauth_reason, c.updated_at FROM calcom_connections c JOIN tenants t ON t.id = c.tenant_id ORDER BY t.slug',
  );
  return Object.fromEntries(rows.map((r) => [r.slug, { status: r.status, reason: r.reauth_reason, touched: r.updated_at.getTime() > Date.now() - HOUR }]));
}

const EXPECTED = {
  a: { status: 'connected', reason: null, touched: false },
  b: { status: 'needs_reauth', reason: 'calcom_account_in_use', touched: true },
  c: { status: 'needs_reauth', reason: 'refresh_token_revoked', touched: false },
  d: { status: 'needs_reauth', reason: 'calcom_account_in_use', touched: true },
  e: { status: 'connected', reason: null, touched: false },
  f: { status: 'connected', reason: null, touched: false },
};

/** A second connected row for Cal.com user 300 (held by f): the index must refuse it. */
async function secondHolderOf300(pool: pg.Pool): Promise<unknown> {
  const { rows } = await pool.query<{ id: string }>("INSERT INTO tenants (slug, name) VALUES ('late', 'late') RETURNING id");
  return pool
    .query(
      `INSERT INTO calcom_connections (tenant_id, kind, status, calcom_user_id, calcom_username, tokens_ciphertext, key_id, access_expires_at, connected_at)
       VALUES ($1, 'oauth', 'connected', 300, 'owner', 'v1.sealed', 'k1', now(), now())`,
      [rows[0]!.id],
    )
    .then(
      () => null,
      (err: unknown) => err,
    );
}

afterAll(() => databases.close());

describe('migration 0020 on a deployment where tenants share a Cal.com account', () => {
  it('when the migration runs, then per Cal.com account the connection refreshed or connected last keeps it, the others need re-authorisation with reason calcom_account_in_use, and the index refuses a new duplicate', async () => {
    const { url, pool } = await databaseBefore0020();
    await seed(pool);
    expect(await databases.apply(url)).toEqual([THIS_ONE]);
    expect(await outcome(pool)).toEqual(EXPECTED);
    expect(await secondHolderOf300(pool)).toMatchObject({ code: '23505', constraint: 'calcom_connections_one_tenant_per_account' });
  });

  it('when the migration runs as an owner that is no superuser (row-level security forced on it), then it resolves the same duplicates tenant by tenant', async () => {
    const { pool } = await databaseBefore0020();
    await seed(pool);
    // Subject to the policies: without a tenant set it sees no connection at all.
    const { seenBefore } = await databases.applyAsOwner(pool, ['tenants', 'calcom_connections'], [], 'SELECT count(*)::int AS n FROM calcom_connections');
    expect(seenBefore).toBe(0);
    expect(await outcome(pool)).toEqual(EXPECTED);
    expect(await secondHolderOf300(pool)).toMatchObject({ code: '23505', constraint: 'calcom_connections_one_tenant_per_account' });
  });
});
