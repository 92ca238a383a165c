import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, GENERIC_PLANS } from '../db/db.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { databasesBefore } from '../test-support/migration-db.js';
import { gather } from './gdpr.export.js';
import { emailPattern, escaped, escapedEmailPattern } from './gdpr.repository.js';

// The index of where each address is mentioned (migration 0021, decision 0037): an export or
// erasure reads only the rows whose text holds the person's key, then runs the same regular
// expression as before on them. It must never miss a row the regular expression would find,
// keep up with every write (as the application's own role, under row-level security), and hold
// what was stored before it existed.

const VECTORS = JSON.parse(readFileSync(new URL('./fixtures/mention-vectors.json', import.meta.url), 'utf8')) as {
  vectors: { text: string; address: string; found: boolean }[];
};
const THIS_ONE = '0021_subject_mentions.sql';
const BACKFILL = '0021b_subject_mentions_backfill.sql';

let database: TestDatabase;
const databases = databasesBefore(THIS_ONE, BACKFILL);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
  await databases.close();
});

interface Case {
  text: string;
  address: string;
}

/**
 * For each case, whether the export's regular expressions find the address (in the text as a
 * column holds it, and in the same text as a raw body's bytes), and whether the text's keys
 * include the address's (the address as the export hashes it for each).
 */
async function check(cases: Case[]): Promise<{ text: string; address: string; found: boolean; covered: boolean; foundRaw: boolean; coveredRaw: boolean }[]> {
  const r = await database.owner.query<{ i: number; found: boolean; covered: boolean; found_raw: boolean; covered_raw: boolean }>(
    `SELECT c.i::int, lower(c.text) ~ c.pattern AS found,
            calbridge_mention_keys(lower(c.text)) @> calbridge_mention_keys(c.address) AS covered,
            lower(encode(convert_to(c.text, 'UTF8'), 'escape')) ~ c.raw_pattern AS found_raw,
            calbridge_mention_keys(lower(encode(convert_to(c.text, 'UTF8'), 'escape'))) @> calbridge_mention_keys(c.raw_address) AS covered_raw
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS c(text, address, pattern, raw_pattern, raw_address, i)
      ORDER BY c.i`,
    [cases.map((c) => c.text), cases.map((c) => c.address), cases.map((c) => emailPattern(c.address)), cases.map((c) => escapedEmailPattern(c.address)), cases.map((c) => escaped(c.address))],
  );
  return r.rows.map((row) => ({ ...cases[row.i - 1]!, found: row.found, covered: row.covered, foundRaw: row.found_raw, coveredRaw: row.covered_raw }));
}

/** A small deterministic generator (mulberry32), so a failing case is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the mention index behind GDPR export and erasure', () => {
  it('when the export’s search finds an address in a vector’s text, then the text’s mention keys include the address’s, as a column and as a raw body', async () => {
    const rows = await check(VECTORS.vectors);
    expect(rows.map((r) => ({ text: r.text, address: r.address, found: r.found }))).toEqual(VECTORS.vectors);
    const missed = rows.filter((r) => (r.found && !r.covered) || (r.foundRaw && !r.coveredRaw));
    expect(missed).toEqual([]);
    // The vectors really exercise both sides: found by the search, and keys that include the address.
    expect(rows.filter((r) => r.found && r.covered).length).toBeGreaterThan(10);
    expect(rows.filter((r) => r.foundRaw && r.coveredRaw).length).toBeGreaterThan(10);
  });

  it('when addresses sit in random text among look-alikes, punctuation and non-ASCII letters, then no place the search finds is missing from the keys', async () => {
    const next = random(0x5eed0021);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    const parts = ['ann', 'jo', 'x', 'zoë', "o'b", 'a+b', 'a.b', 'example', 'com', 'co', 'é', '1'] as const;
    const glue = ['@', '.', '.', '-', '_', ' ', '!', '"', '\\', '<', '>', '?', '=', '&', '..', ''] as const;
    const word = () => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(parts) + pick(glue)).join('');
    const cases: Case[] = [];
    for (let i = 0; i < 3000; i++) {
      const address = `${pick(parts)}${pick(['', '.', '+', '-'])}${pick(parts)}@${pick(parts)}${pick(['.', '.', '', '-'])}${pick(parts)}`;
      const around = [word(), pick(glue), address, pick(glue), word()];
      // Half the texts hold the address (with whatever surrounds it), half only pieces of others.
      cases.push({ text: next() < 0.5 ? around.join('') : word() + word(), address });
    }
    const rows = await check(cases);
    expect(rows.filter((r) => (r.found && !r.covered) || (r.foundRaw && !r.coveredRaw))).toEqual([]);
    expect(rows.filter((r) => r.found).length).toBeGreaterThan(300);
    expect(rows.filter((r) => r.foundRaw).length).toBeGreaterThan(300);
  });

  it('when a booking naming a person is stored, changed to name another and deleted by the application under row-level security, then the index follows each write', async () => {
    const tenant = (await database.owner.query<{ id: string }>("INSERT INTO tenants (slug, name) VALUES ('mentions', 'Mentions') RETURNING id")).rows[0]!.id;
    const keysOf = async (address: string) =>
      (
        await database.owner.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM subject_mentions WHERE tenant_id = $1 AND source = 'bookings' AND row_key = 'bk-m1'
              AND mention = ANY(calbridge_mention_keys($2))`,
          [tenant, address],
        )
      ).rows[0]!.n;
    const write = (sql: string, params: unknown[] = []) => database.db.withTenant(tenant, (tx) => tx.query(sql, [tenant, ...params]));
    await write(
      `INSERT INTO bookings (tenant_id, uid, status, title, attendees, attendee_emails, state_at, state_rank, state_event_id, created_at, updated_at)
       VALUES ($1, 'bk-m1', 'accepted', 'Intro with Ann', '[{"email":"ann@example.com"}]', ARRAY['ann@example.com'], now(), 1, gen_random_uuid(), now(), now())`,
    );
    expect(await keysOf('ann@example.com')).toBe(1);
    // A change to a column the search does not read leaves the index as it is.
    await write(`UPDATE bookings SET status = 'cancelled' WHERE tenant_id = $1 AND uid = 'bk-m1'`);
    expect(await keysOf('ann@example.com')).toBe(1);
    await write(
      `UPDATE bookings SET attendees = '[{"email":"bob@example.org"}]', attendee_emails = ARRAY['bob@example.org'], cancellation_reason = 'moved to cy@example.net'
        WHERE tenant_id = $1 AND uid = 'bk-m1'`,
    );
    expect([await keysOf('ann@example.com'), await keysOf('bob@example.org'), await keysOf('cy@example.net')]).toEqual([0, 1, 1]);
    await write(`DELETE FROM bookings WHERE tenant_id = $1 AND uid = 'bk-m1'`);
    expect([await keysOf('bob@example.org'), await keysOf('cy@example.net')]).toEqual([0, 0]);
  });

  it('when another tenant’s transaction asks the index, then it sees none of this tenant’s keys', async () => {
    const [a, b] = (await database.owner.query<{ id: string }>("INSERT INTO tenants (slug, name) VALUES ('mentions-a', 'A'), ('mentions-b', 'B') RETURNING id")).rows.map((r) => r.id);
    await database.db.withTenant(a!, (tx) =>
      tx.query(
        `INSERT INTO leads (tenant_id, email, name, score, explanation, created_at, updated_at)
         VALUES ($1, 'dee@example.com', 'Dee', 1, '[]', now(), now())`,
        [a],
      ),
    );
    const seen = (tenant: string) =>
      database.db.withTenant(tenant, async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM subject_mentions WHERE mention = ANY(calbridge_mention_keys('dee@example.com'))`)).rows[0]!.n);
    expect([await seen(a!), await seen(b!)]).toEqual([1, 0]);
  });
});

describe('an address the index has no key for', () => {
  it('when a person whose address has no key (nothing but "!" before its "@") is searched, then every row of the tenant is searched and theirs alone are found', async () => {
    const tenant = (await database.owner.query<{ id: string }>("INSERT INTO tenants (slug, name) VALUES ('keyless', 'Keyless') RETURNING id")).rows[0]!.id;
    const booking = (uid: string, title: string) =>
      database.owner.query(
        `INSERT INTO bookings (tenant_id, uid, status, title, attendees, attendee_emails, state_at, state_rank, state_event_id, created_at, updated_at)
         VALUES ($1, $2, 'accepted', $3, '[]', '{}', now(), 1, gen_random_uuid(), now(), now())`,
        [tenant, uid, title],
      );
    await booking('bk-k1', 'Call with ANN!@example.com');
    await booking('bk-k2', 'Call with jo.ann!@example.com');
    await database.owner.query(
      `INSERT INTO webhook_inbox (tenant_id, body_sha256, trigger_event, event_created_at, received_at, body)
       VALUES ($1, sha256('k'::bytea), 'FORM_SUBMITTED', now(), now(), convert_to('{"responses":{"email":{"value":"ann!@example.com"}}}', 'UTF8'))`,
      [tenant],
    );
    expect((await database.owner.query<{ k: string[] }>("SELECT calbridge_mention_keys('ann!@example.com') AS k")).rows[0]!.k).toEqual([]);
    const found = await database.db.withTenant(tenant, (tx) => gather(tx, 'ann!@example.com'));
    expect(found.bookings.map((b) => b.uid)).toEqual(['bk-k1']);
    expect(found.inbox.map((i) => i.trigger)).toEqual(['FORM_SUBMITTED']);
  });
});

describe('the search as export and erasure run it: named statements with generic plans (decision 0039)', () => {
  it('when one connection searches for a person with a key and one without, again and again, then each finds theirs alone, with named statements and without', async () => {
    const tenant = (await database.owner.query<{ id: string }>("INSERT INTO tenants (slug, name) VALUES ('generic', 'Generic') RETURNING id")).rows[0]!.id;
    for (const [uid, title] of [['bk-g1', 'Call with ann@example.com'], ['bk-g2', 'Call with ANN!@example.com'], ['bk-g3', 'Call with joann@example.com']]) {
      await database.owner.query(
        `INSERT INTO bookings (tenant_id, uid, status, title, attendees, attendee_emails, state_at, state_rank, state_event_id, created_at, updated_at)
         VALUES ($1, $2, 'accepted', $3, '[]', '{}', now(), 1, gen_random_uuid(), now(), now())`,
        [tenant, uid, title],
      );
    }
    // One connection each, so the second and third searches meet the statements the first prepared.
    for (const namedStatements of [true, false]) {
      const db = createDb({ connectionString: database.ownerUrl, max: 1, namedStatements });
      try {
        for (let round = 0; round < 3; round++) {
          const [keyed, keyless] = await db.withTenant(tenant, async (tx) => [await gather(tx, 'ann@example.com'), await gather(tx, 'ann!@example.com')], GENERIC_PLANS);
          expect(keyed.bookings.map((b) => b.uid), `named: ${namedStatements}`).toEqual(['bk-g1']);
          expect(keyless.bookings.map((b) => b.uid), `named: ${namedStatements}`).toEqual(['bk-g2']);
        }
        const mode = await db.withTenant(tenant, async (tx) => (await tx.query<{ m: string }>("SELECT current_setting('plan_cache_mode') AS m")).rows[0]!.m, GENERIC_PLANS);
        expect(mode).toBe('force_generic_plan');
        // Transaction-local: the connection's next user plans as usual.
        expect(await db.withTenant(tenant, async (tx) => (await tx.query<{ m: string }>("SELECT current_setting('plan_cache_mode') AS m")).rows[0]!.m)).toBe('auto');
      } finally {
        await db.close();
      }
    }
  });
});

describe('migrations 0021 and 0021b on a deployment with people already stored', () => {
  /** A booking and a raw delivery naming ann@example.com, stored before 0021 (as superuser: no policy applies). */
  async function seedBefore(pool: pg.Pool): Promise<string> {
    const tenant = (await pool.query<{ id: string }>("INSERT INTO tenants (slug, name) VALUES ('before', 'Before') RETURNING id")).rows[0]!.id;
    await pool.query(
      `INSERT INTO bookings (tenant_id, uid, status, title, attendees, attendee_emails, state_at, state_rank, state_event_id, created_at, updated_at)
       VALUES ($1, 'bk-old', 'accepted', 'Intro', '[{"email":"ann@example.com"}]', ARRAY['ann@example.com'], now(), 1, gen_random_uuid(), now(), now())`,
      [tenant],
    );
    await pool.query(
      `INSERT INTO webhook_inbox (tenant_id, body_sha256, trigger_event, event_created_at, booking_uid, received_at, body)
       VALUES ($1, sha256('x'::bytea), 'BOOKING_CREATED', now(), 'bk-old', now(), convert_to('{"payload":{"attendees":[{"email":"Ann@Example.com"}]}}', 'UTF8'))`,
      [tenant],
    );
    return tenant;
  }
  const indexed = async (pool: pg.Pool, tenant: string) =>
    (
      await pool.query<{ source: string }>(
        `SELECT source FROM subject_mentions WHERE tenant_id = $1 AND mention = ANY(calbridge_mention_keys('ann@example.com')) ORDER BY source`,
        [tenant],
      )
    ).rows.map((r) => r.source);

  it('when the migrations run, then what was stored before is in the index', async () => {
    const { url, pool } = await databases.before();
    const tenant = await seedBefore(pool);
    expect(await databases.apply(url)).toEqual([THIS_ONE, BACKFILL]);
    expect(await indexed(pool, tenant)).toEqual(['bookings', 'webhook_inbox']);
  });

  it('when the migrations run as an owner that is no superuser (row-level security forced on it), then they index tenant by tenant all the same', async () => {
    const { pool } = await databases.before();
    const tenant = await seedBefore(pool);
    const tables = ['tenants', 'bookings', 'webhook_inbox', 'consent_receipts', 'calcom_booking_requests', 'leads', 'crm_messages'];
    // Subject to the policies: without a tenant set it sees no booking at all.
    const { seenBefore } = await databases.applyAsOwner(pool, tables, ['subject_mentions'], 'SELECT count(*)::int AS n FROM bookings');
    expect(seenBefore).toBe(0);
    expect(await indexed(pool, tenant)).toEqual(['bookings', 'webhook_inbox']);
  });
});
