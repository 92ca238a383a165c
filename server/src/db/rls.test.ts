import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { dumpDatabase } from '../test-support/database.js';

let t: TestApp;
let a: { id: string };
let b: { id: string };
const secrets: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  a = (await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'tenant-a', name: 'A', allowedOrigins: [] })).body;
  b = (await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'tenant-b', name: 'B', allowedOrigins: [] })).body;
  for (const slug of ['tenant-a', 'tenant-b']) {
    secrets.push((await request(t.app).post(`/v1/admin/tenants/${slug}/webhook-secret`).set(asAdmin)).body.secret);
    await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: slug });
  }
});
afterAll(() => t.close());

/** Every table that holds tenant data: the directory itself and each table with a tenant_id column. */
async function tenantTables(): Promise<string[]> {
  const { rows } = await t.database.owner.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND (column_name = 'tenant_id' OR table_name = 'tenants')
      ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

/** Runs SQL as the app role, in a transaction with the given settings, then rolls back. */
async function asApp<T>(settings: Record<string, string>, fn: (q: (sql: string, p?: unknown[]) => Promise<{ rows: T[] }>) => Promise<unknown>) {
  const c = await t.database.owner.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL ROLE calbridge_app');
    for (const [k, v] of Object.entries(settings)) await c.query('SELECT set_config($1, $2, true)', [k, v]);
    return await fn(async (sql, p) => ({ rows: (await c.query(sql, p)).rows as T[] }));
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
}

describe('row-level security', () => {
  it('when any table has a tenant_id column, then it has row-level security enabled and forced', async () => {
    const tables = await tenantTables();
    expect(tables).toEqual(expect.arrayContaining(['tenants', 'tenant_secrets', 'admin_tokens']));
    const { rows } = await t.database.owner.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1) AND relkind = 'r'`,
      [tables],
    );
    expect(rows).toHaveLength(tables.length);
    for (const r of rows) expect({ table: r.relname, enabled: r.relrowsecurity, forced: r.relforcerowsecurity }).toEqual({ table: r.relname, enabled: true, forced: true });
  });

  it('when the app role has no tenant set, then every tenant table looks empty', async () => {
    for (const table of await tenantTables()) {
      const n = await asApp<{ n: number }>({}, async (q) => (await q(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n);
      expect({ table, rows: n }).toEqual({ table, rows: 0 });
    }
  });

  it('when tenant A is set, then no row of tenant B is visible', async () => {
    for (const table of await tenantTables()) {
      const col = table === 'tenants' ? 'id' : 'tenant_id';
      const n = await asApp<{ n: number }>({ 'app.tenant_id': a.id }, async (q) => (await q(`SELECT count(*)::int AS n FROM ${table} WHERE ${col} = $1`, [b.id])).rows[0]!.n);
      expect({ table, rows: n }).toEqual({ table, rows: 0 });
    }
  });

  it('when tenant A is set, then a row for tenant B cannot be written or changed', async () => {
    await expect(
      asApp({ 'app.tenant_id': a.id }, (q) => q(`INSERT INTO tenant_secrets (tenant_id, kind, ciphertext, key_id) VALUES ($1, 'x', 'v1.x', 'k1')`, [b.id])),
    ).rejects.toThrow(/row-level security/);
    const updated = await asApp<{ id: string }>({ 'app.tenant_id': a.id }, async (q) => (await q(`UPDATE tenants SET name = 'hijacked' WHERE id = $1 RETURNING id`, [b.id])).rows);
    expect(updated).toEqual([]);
  });

  it('when the platform scope is set, then the directory is visible but tenant secrets are not', async () => {
    const counts = await asApp<{ tenants: number; secrets: number }>({ 'app.scope': 'platform' }, async (q) =>
      (await q('SELECT (SELECT count(*)::int FROM tenants) AS tenants, (SELECT count(*)::int FROM tenant_secrets) AS secrets')).rows[0],
    );
    expect(counts).toEqual({ tenants: 2, secrets: 0 });
  });

  it('when every table is read as text, then no secret stored through the API appears in plaintext', async () => {
    const dump = await dumpDatabase(t.database.ownerUrl);
    expect(dump).toContain('tenant_secrets');
    for (const s of secrets) expect(dump).not.toContain(s);
  });
});
