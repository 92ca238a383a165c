import type pg from 'pg';
import type { Db, Tx } from '../db/db.js';

/** One statement the application ran, and the plan PostgreSQL chose for it (same transaction, same role, same values). */
export interface CapturedPlan {
  sql: string;
  plan: PlanNode;
  /** With `analyze`: the server's own times for the statement, in ms (EXPLAIN ANALYZE's Planning and Execution Time). */
  planningMs?: number;
  executionMs?: number;
  /** With `analyze`: milliseconds spent compiling the statement with JIT, when PostgreSQL chose to. */
  jitMs?: number;
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
 * With `analyze`, EXPLAIN (ANALYZE, BUFFERS) runs the statement and the savepoint is
 * then rolled back, so a write takes effect once, when the app's own statement runs;
 * the plan carries actual rows, buffers and the server's planning and execution times.
 */
export function explainingDb(db: Db, plans: CapturedPlan[], options: { analyze?: boolean } = {}): Db {
  const explain = options.analyze ? 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)' : 'EXPLAIN (FORMAT JSON)';
  function wrap(tx: Tx): Tx {
    const query = async (config: string | pg.QueryConfig, values?: unknown[]) => {
      const text = typeof config === 'string' ? config : config.text;
      const args = typeof config === 'string' ? values : config.values;
      if (EXPLAINABLE.test(text) && !text.includes(';')) {
        await tx.query('SAVEPOINT calbridge_explain');
        try {
          const r = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode; 'Planning Time'?: number; 'Execution Time'?: number; JIT?: { Timing?: { Total?: number } } }[] }>({ text: `${explain} ${text}`, values: args });
          const out = r.rows[0]!['QUERY PLAN'][0]!;
          plans.push({ sql: text, plan: out.Plan, planningMs: out['Planning Time'], executionMs: out['Execution Time'], jitMs: out.JIT?.Timing?.Total });
          await tx.query(options.analyze ? 'ROLLBACK TO SAVEPOINT calbridge_explain' : 'RELEASE SAVEPOINT calbridge_explain');
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

/** A scan of a tenant-owned table that read more rows only to throw them away than it kept (EXPLAIN ANALYZE's "Rows Removed by …"). */
export interface FilteredScan {
  sql: string;
  node: string;
  relation: string | undefined;
  index: string | undefined;
  removed: number;
  /** The scan's index (or recheck) condition and its filter. */
  condition: string;
}

/**
 * Every scan of a tenant-owned table, in plans captured with `analyze`, that discarded more rows
 * after reading them than it kept: by a filter, or by a bitmap heap scan's recheck (a sequential scan of a table of at
 * most SMALL_TABLE_PAGES pages aside). A scan whose index conditions say
 * which rows are wanted reads those and no more; one that discards rows reads in proportion to
 * something else, usually all the tenant's rows (the index served only tenant_id, or none).
 */
export async function scansThatFilterAway(owner: pg.Pool, plans: CapturedPlan[]): Promise<FilteredScan[]> {
  const tables = new Set(
    (await owner.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'`)).rows.map((r) => r.t),
  );
  const small = new Set(
    (await owner.query<{ t: string }>(`SELECT relname AS t FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relpages <= $1`, [SMALL_TABLE_PAGES])).rows.map((r) => r.t),
  );
  const found: FilteredScan[] = [];
  const walk = (sql: string, n: PlanNode) => {
    const relation = n['Relation Name'];
    const removed = Number(n['Rows Removed by Filter'] ?? 0) + Number(n['Rows Removed by Index Recheck'] ?? 0);
    // As in scansWithoutTenantIndex: reading a table of a few pages whole is the planner's choice, and costs what an index walk would.
    const wholeSmallTable = n['Node Type'] === 'Seq Scan' && relation !== undefined && small.has(relation);
    // More rows thrown away than kept: the scan's reading grows with something other than its answer.
    // (Fewer is the planner trading a few discarded rows for a cheaper plan on a small tenant, as when
    // 50 ids of a tenant's 60 messages are looked up together.)
    const kept = Number(n['Actual Rows'] ?? 0);
    if (relation && tables.has(relation) && removed > kept && !wholeSmallTable) {
      found.push({ sql, node: n['Node Type'], relation, index: n['Index Name'], removed, condition: String(n['Index Cond'] ?? n['Recheck Cond'] ?? '') + ' / ' + String(n.Filter ?? '') });
    }
    for (const c of n.Plans ?? []) walk(sql, c);
  };
  for (const p of plans) walk(p.sql, p.plan);
  return found;
}
