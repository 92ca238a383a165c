import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../app.js';
import { capturingLogger, manualClock, offlineFetch, TEST_ADMIN_TOKEN, testConfig } from '../test-support/app.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { explainingDb, scansThatFilterAway, scansWithoutTenantIndex, type CapturedPlan } from '../test-support/explain.js';
import { startScaleHarness, type ScaleHarness, type ScaleTarget } from '../test-support/scale-operations.js';
import { seedScaleBookings, seedScaleTenants } from '../test-support/scale-seed.js';

// An agency's database in miniature: 200 tenants of 60 bookings (12,000 bookings, about
// 130,000 rows; the share of one tenant is what makes the planner's choice), statistics gathered with ANALYZE, so the planner chooses as it would with
// real data. Every statement the admin reads and the jobs send is EXPLAINed (same role,
// same row-level security, same values) under EXPLAIN (ANALYZE, BUFFERS), rolled back before the
// statement itself runs; each scan of a tenant-owned table must go through an index that leads
// with tenant_id and, outside the GDPR search, read only the rows it returns. Plans and row counts,
// not times (npm run bench:scale times them).
const TENANTS = 200;
const BOOKINGS = 60;

let database: TestDatabase;
let harness: ScaleHarness;
const plans: CapturedPlan[] = [];
/** The plans of each operation, by its name. */
const plansOf = new Map<string, CapturedPlan[]>();
let targets: ScaleTarget[];

beforeAll(async () => {
  database = await createTestDatabase();
  await seedScaleTenants(database.owner, TENANTS);
  await seedScaleBookings(database.owner, 0, BOOKINGS);
  await database.owner.query('ANALYZE');
  const ids = (await database.owner.query<{ n: number; id: string }>('SELECT n, id FROM scale_tenants WHERE n IN (3, 97, 181) ORDER BY n')).rows;
  targets = ids.map((r) => ({ n: r.n, id: r.id, bookings: BOOKINGS }));
  const config = testConfig({ DATABASE_URL: database.ownerUrl });
  const ctx = createContext({ config, db: explainingDb(database.db, plans, { analyze: true }), fetch: offlineFetch, clock: manualClock(new Date()), logger: capturingLogger().logger });
  harness = await startScaleHarness(ctx, TEST_ADMIN_TOKEN);
  for (const op of harness.operations) {
    const before = plans.length;
    for (const [k, t] of targets.entries()) await op.run(t, k);
    plansOf.set(op.name, plans.slice(before));
  }
}, 240_000);
afterAll(async () => {
  await harness?.close();
  await database?.drop();
});

describe('indexes at agency size', () => {
  it('when an admin reads bookings, leads and logs, exports or erases a person, and the nightly jobs run, then every tenant table is read through an index that leads with tenant_id', async () => {
    // Every operation was really looked at.
    for (const op of harness.operations) expect(plansOf.get(op.name)?.length ?? 0, op.name).toBeGreaterThan(0);

    const problems = await scansWithoutTenantIndex(database.owner, plans);
    if (process.env.PLAN_DEBUG) console.log([...new Set(plans.flatMap((p) => JSON.stringify(p.plan).match(/"Index Name":"[a-z_]+"/g) ?? []))].sort().join('\n'));
    const readable = problems.map((p) => `${p.node} on ${p.relation}${p.index ? ` (${p.index})` : ''}: ${p.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
    expect([...new Set(readable)]).toEqual([]);
  }, 120_000);

  it('when an admin lists bookings by status, time window, email or page, reads one booking, leads or a log, and reconciliation and retention run, exports or erases a person, then no scan throws away more of the tenant rows it read than it returns', async () => {
    // The GDPR export and erasure too: they read the rows the mention index names (migration 0021).
    const bounded = [...plansOf];
    expect(bounded.length).toBeGreaterThan(8);
    const filtered = [];
    for (const [name, ps] of bounded) {
      for (const f of await scansThatFilterAway(database.owner, ps)) {
        filtered.push(`${name}: ${f.node} on ${f.relation}${f.index ? ` (${f.index})` : ''} discarded ${f.removed} (${f.condition.slice(0, 200)}): ${f.sql.replace(/\s+/g, ' ').slice(0, 140)}`);
      }
    }
    expect([...new Set(filtered)]).toEqual([]);
  });

  it('when a person is exported or erased, then the plans checked are the generic ones those transactions run (decision 0039)', () => {
    for (const name of ['GDPR export', 'GDPR erasure']) {
      const ps = plansOf.get(name) ?? [];
      // Every statement of the search was explained: a statement PREPARE could not take would be missing.
      expect(ps.filter((p) => p.sql.includes('subject_mentions')).length, name).toBeGreaterThanOrEqual(6 * targets.length);
      expect(ps.filter((p) => p.sql.includes('subject_mentions') && !p.generic).map((p) => p.sql.replace(/\s+/g, ' ').slice(0, 80)), name).toEqual([]);
    }
  });

  it('when a tenant-owned table grows, then it has an index that leads with tenant_id to be read through', async () => {
    const missing = await database.owner.query<{ table: string }>(
      `SELECT c.table_name AS table FROM information_schema.columns c
        WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
          -- The admin token directory: looked up by token hash, across tenants (tenant_id is a scope there, not an owner).
          AND c.table_name <> 'admin_tokens'
          AND NOT EXISTS (SELECT 1 FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
                           WHERE x.indrelid = ('public.' || c.table_name)::regclass AND a.attname = 'tenant_id')
        ORDER BY 1`,
    );
    expect(missing.rows.map((r) => r.table)).toEqual([]);
  });
});
