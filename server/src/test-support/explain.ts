import type pg from 'pg';
import type { Db, Tx } from '../db/db.js';

/** One statement the application ran, and the plan PostgreSQL chose for it (same transaction, same role, same values). */
export interface CapturedPlan {
  sql: string;
  plan: PlanNode;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  [k: string]: unknown;
}

const EXPLAINABLE = /^\s*(SELECT|WITH|UPDATE|DELETE|INSERT)\b/i;

/**
 * The database as the app sees it, but every statement the app sends through a
 * transaction is first EXPLAINed in that transaction (inside a savepoint, so a
 * statement EXPLAIN cannot take does not abort it): the plans of the real
 * statements, with their real values, under row-level security as `calbridge_app`.
 */
export function explainingDb(db: Db, plans: CapturedPlan[]): Db {
  function wrap(tx: Tx): Tx {
    const query = async (config: string | pg.QueryConfig, values?: unknown[]) => {
      const text = typeof config === 'string' ? config : config.text;
      const args = typeof config === 'string' ? values : config.values;
      if (EXPLAINABLE.test(text) && !text.includes(';')) {
        await tx.query('SAVEPOINT calbridge_explain');
        try {
          const r = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>({ text: `EXPLAIN (FORMAT JSON) ${text}`, values: args });
          plans.push({ sql: text, plan: r.rows[0]!['QUERY PLAN'][0]!.Plan });
          await tx.query('RELEASE SAVEPOINT calbridge_explain');
        } catch {
          await tx.query('ROLLBACK TO SAVEPOINT calbridge_explain');
        }
      }
      return typeof config === 'string' ? tx.query(config, values) : tx.query(config);
    };
    return new Proxy(tx, {
      get(target, prop, receiver) {
        if (prop === 'query') return query;
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
  return {
    pool: db.pool,
    withTenant: (tenantId, fn) => db.withTenant(tenantId, (tx) => fn(wrap(tx))),
    withPlatform: (fn) => db.withPlatform((tx) => fn(wrap(tx))),
    ready: (n) => db.ready(n),
    close: () => db.close(),
  };
}

/** A scan of a tenant-owned table that is not an index leading with `tenant_id`. */
export interface PlanProblem {
  sql: string;
  node: string;
  relation: string | undefined;
  index: string | undefined;
}

/** Tables of at most this many pages (8 kB each) may be read whole: that costs what an index walk costs. */
const SMALL_TABLE_PAGES = 10;

/**
 * Every table scan in the plans of a tenant-owned table (one with a `tenant_id` column)
 * that is not served by an index whose first column is `tenant_id`. Two kinds of scan
 * are not counted, as their cost does not grow with the data: a lookup (Index Cond) in a
 * single-column unique index (a globally unique id: one entry, one row, which row-level
 * security then checks), and a sequential scan of a table of at most SMALL_TABLE_PAGES
 * pages that has an index leading with tenant_id for when it grows (the planner's own
 * choice, on the seeded statistics).
 */
export async function scansWithoutTenantIndex(owner: pg.Pool, plans: CapturedPlan[]): Promise<PlanProblem[]> {
  const tables = new Set(
    (await owner.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'`)).rows.map((r) => r.t),
  );
  const indexRows = (
    await owner.query<{ index: string; table: string; first: string; unique: boolean; columns: number; pages: number }>(
      `SELECT i.relname AS index, t.relname AS table, a.attname AS first, x.indisunique AS unique, x.indnatts::int AS columns, t.relpages AS pages
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
        WHERE t.relnamespace = 'public'::regnamespace`,
    )
  ).rows;
  const indexes = new Map(indexRows.map((r) => [r.index, r]));
  const smallWithTenantIndex = new Set(indexRows.filter((r) => r.first === 'tenant_id' && r.pages <= SMALL_TABLE_PAGES).map((r) => r.table));
  const problems: PlanProblem[] = [];
  const walk = (sql: string, n: PlanNode) => {
    const relation = n['Relation Name'];
    const index = n['Index Name'];
    if (index) {
      const ix = indexes.get(index);
      const lookup = ix?.unique && ix.columns === 1 && typeof n['Index Cond'] === 'string';
      if (ix && tables.has(ix.table) && ix.first !== 'tenant_id' && !lookup) problems.push({ sql, node: n['Node Type'], relation: ix.table, index });
    } else if (relation && tables.has(relation) && /Scan$/.test(n['Node Type']) && n['Node Type'] !== 'Bitmap Heap Scan') {
      if (n['Node Type'] === 'Seq Scan' && smallWithTenantIndex.has(relation)) return;
      problems.push({ sql, node: n['Node Type'], relation, index });
    }
    for (const c of n.Plans ?? []) walk(sql, c);
  };
  for (const p of plans) walk(p.sql, p.plan);
  return problems;
}
