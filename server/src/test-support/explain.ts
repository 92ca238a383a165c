import pgRuntime from 'pg';
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
  /** The plan made without the statement's values, as a GENERIC_PLANS transaction runs it (db.ts). */
  generic?: boolean;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  [k: string]: unknown;
}

/** A value as `pg` would send it, written as an SQL literal (untyped; NULL for null). */
function literal(tx: Tx, value: unknown): string {
  // pg's own conversion (arrays as array literals, dates, JSON); its typings do not declare `utils`.
  const v = (pgRuntime as unknown as { utils: { prepareValue(v: unknown): unknown } }).utils.prepareValue(value);
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'`;
  return tx.escapeLiteral(String(v));
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
        // In a GENERIC_PLANS transaction (db.ts) the app's statement runs the plan made without its
        // values: EXPLAIN shows that one (EXECUTE of the statement prepared here, with the same
        // parameter types inferred), not the plan its values would get.
        const generic = (await tx.query<{ mode: string }>("SELECT current_setting('plan_cache_mode') AS mode")).rows[0]?.mode === 'force_generic_plan';
        let prepared = false;
        try {
          let explained = `${explain} ${text}`;
          if (generic) {
            await tx.query(`PREPARE calbridge_explained AS ${text}`);
            prepared = true;
            // EXECUTE's arguments are not parameters of the EXPLAIN around it: the values go in as
            // literals of unknown type, which EXECUTE casts to the types PREPARE inferred.
            explained = `${explain} EXECUTE calbridge_explained${args?.length ? `(${args.map((v) => literal(tx, v)).join(', ')})` : ''}`;
          }
          const r = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode; 'Planning Time'?: number; 'Execution Time'?: number; JIT?: { Timing?: { Total?: number } } }[] }>({ text: explained, values: generic ? [] : args });
          const out = r.rows[0]!['QUERY PLAN'][0]!;
          plans.push({ sql: text, plan: out.Plan, planningMs: out['Planning Time'], executionMs: out['Execution Time'], jitMs: out.JIT?.Timing?.Total, generic });
          await tx.query(options.analyze ? 'ROLLBACK TO SAVEPOINT calbridge_explain' : 'RELEASE SAVEPOINT calbridge_explain');
        } catch (e) {
          if (process.env.PLAN_DEBUG) console.log('EXPLAIN failed', String(e), text.slice(0, 80));
          await tx.query('ROLLBACK TO SAVEPOINT calbridge_explain');
        } finally {
          // A prepared statement outlives its transaction and savepoint.
          if (prepared) await tx.query('DEALLOCATE calbridge_explained');
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
    // The opening goes through: it can set how the transaction's statements are planned (GENERIC_PLANS).
    withTenant: (tenantId, fn, opening) => db.withTenant(tenantId, (tx, opened) => fn(wrap(tx), opened), opening),
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
    // The same waste one level up, where no "Rows Removed" tells it. A bitmap AND that read more
    // index entries from one side than the heap scan then found: that side served only tenant_id.
    if (n['Node Type'] === 'Bitmap Heap Scan' && relation && tables.has(relation)) {
      const and = (n.Plans ?? []).find((c) => c['Node Type'] === 'BitmapAnd');
      for (const side of and?.Plans ?? []) {
        const entries = Number(side['Actual Rows'] ?? 0);
        if (entries > kept + removed) found.push({ sql, node: 'BitmapAnd', relation, index: side['Index Name'], removed: entries - kept - removed, condition: String(side['Index Cond'] ?? '') });
      }
    }
    // A hash or merge join that read more rows of a tenant table than it joined: the rest were read
    // only to find no partner (a join in place of a lookup by key).
    if ((n['Node Type'] === 'Hash Join' || n['Node Type'] === 'Merge Join') && n['Join Type'] !== 'Anti') {
      const joined = Number(n['Actual Rows'] ?? 0);
      for (let side of n.Plans ?? []) {
        while (['Hash', 'Sort', 'Materialize'].includes(side['Node Type']) && side.Plans?.length === 1) side = side.Plans[0]!;
        const read = Number(side['Actual Rows'] ?? 0);
        const table = side['Relation Name'];
        if (table && tables.has(table) && read > joined && !(side['Node Type'] === 'Seq Scan' && small.has(table))) {
          found.push({ sql, node: `${n['Node Type']} over ${side['Node Type']}`, relation: table, index: side['Index Name'], removed: read - joined, condition: String(n['Hash Cond'] ?? n['Merge Cond'] ?? '') });
        }
      }
    }
    for (const c of n.Plans ?? []) walk(sql, c);
  };
  for (const p of plans) walk(p.sql, p.plan);
  return found;
}
