import { escapeLiteral } from 'pg';
import { statementName, type Tx } from '../db/db.js';

export interface ReceiptInput {
  tenantId: string;
  sessionId: string;
  consentVersion: string;
  consentTextSha256: string;
  purposes: string[];
  pageOrigin: string;
  pageUrl: string;
  referrer: string;
  utm: Record<string, string>;
  ipPrefix: string;
  userAgentFamily: string;
  createdAt: Date;
  /** SHA-256 of the session nonce the browser made (null: a widget that sent none). */
  nonceSha256?: Buffer | null;
  consentSource?: 'widget' | 'api' | 'tcf' | 'gcm';
  clickIds?: Record<string, string>;
}

export async function insertReceipt(tx: Tx, r: ReceiptInput): Promise<{ id: string }> {
  const res = await tx.query<{ id: string }>(
    `INSERT INTO consent_receipts (tenant_id, session_id, consent_version, consent_text_sha256, purposes, page_origin,
       page_url, referrer, utm, ip_prefix, user_agent_family, created_at, nonce_sha256, consent_source, click_ids)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
    [r.tenantId, r.sessionId, r.consentVersion, r.consentTextSha256, r.purposes, r.pageOrigin, r.pageUrl, r.referrer, JSON.stringify(r.utm), r.ipPrefix, r.userAgentFamily, r.createdAt,
      r.nonceSha256 ?? null, r.consentSource ?? 'widget', JSON.stringify(r.clickIds ?? {})],
  );
  return res.rows[0]!;
}

const COUNTS_SQL = (p: (n: number) => string) => `WITH address AS (
    INSERT INTO widget_rate_limits (tenant_id, bucket, window_start, hits) VALUES (${p(1)}, ${p(2)}, ${p(3)}, 1)
    ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET hits = widget_rate_limits.hits + 1
    RETURNING hits
  ), whole AS (
    INSERT INTO widget_rate_limits (tenant_id, bucket, window_start, hits)
    SELECT ${p(1)}, 'tenant', ${p(3)}, 1 FROM address WHERE address.hits <= ${p(4)}
    ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET hits = widget_rate_limits.hits + 1
    RETURNING hits
  ), pruned AS (
    DELETE FROM widget_rate_limits WHERE tenant_id = ${p(1)} AND window_start < ${p(5)}
  )
  SELECT (SELECT hits FROM address) AS address, (SELECT hits FROM whole) AS tenant`;

export interface SessionCounts {
  address: number;
  tenant: number | null;
}
type CountValues = [tenantId: string, addressBucket: string, windowStart: Date, perAddress: number, prunedBefore: Date];
const countValues = (tenantId: string, addressBucket: string, windowStart: Date, perAddress: number): CountValues => [
  tenantId,
  addressBucket,
  windowStart,
  perAddress,
  new Date(windowStart.getTime() - 3_600_000),
];

/**
 * A session's two counts in one statement: the address's hit, then, only when the address is
 * within `perAddress`, the tenant's; the tenant's windows older than an hour are pruned. The
 * address row is taken before the tenant row (the tenant insert reads the address's), so two
 * mints never wait on each other in a cycle. `tenant` is null when the address was over.
 */
export async function hitAddressThenTenant(tx: Tx, tenantId: string, addressBucket: string, windowStart: Date, perAddress: number): Promise<SessionCounts> {
  const res = await tx.query<SessionCounts>({
    name: statementName(tx, 'session_rate_limit'),
    text: COUNTS_SQL((n) => `$${n}`),
    values: countValues(tenantId, addressBucket, windowStart, perAddress),
  });
  return res.rows[0]!;
}

/**
 * The same statement as a transaction opening (`db.withTenant`'s third argument: sent with the
 * transaction's first round trip, so the counts cost one round trip besides the commit). An
 * opening takes no parameters, so the values are written in as literals, each escaped.
 */
export function hitAddressThenTenantOpening(tenantId: string, addressBucket: string, windowStart: Date, perAddress: number): string {
  const v = countValues(tenantId, addressBucket, windowStart, perAddress);
  const literal = (n: number) => {
    const x = v[n - 1]!;
    if (typeof x === 'number') return String(Math.trunc(x));
    return `${escapeLiteral(x instanceof Date ? x.toISOString() : x)}::${n === 1 ? 'uuid' : n === 2 ? 'text' : 'timestamptz'}`;
  };
  return COUNTS_SQL(literal);
}

/**
 * Counts one hit in a fixed window and returns the window's total. Runs in its own
 * transaction so refused requests still count; old windows of the tenant are pruned.
 */
export async function hit(tx: Tx, tenantId: string, bucket: string, windowStart: Date): Promise<number> {
  await tx.query('DELETE FROM widget_rate_limits WHERE tenant_id = $1 AND window_start < $2', [tenantId, new Date(windowStart.getTime() - 3_600_000)]);
  const res = await tx.query<{ hits: number }>(
    `INSERT INTO widget_rate_limits (tenant_id, bucket, window_start, hits) VALUES ($1, $2, $3, 1)
     ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET hits = widget_rate_limits.hits + 1
     RETURNING hits`,
    [tenantId, bucket, windowStart],
  );
  return res.rows[0]!.hits;
}

export interface ObservedInput {
  tenantId: string;
  uid: string;
  sessionId: string;
  consentReceiptId: string;
  startTime: string | null;
  endTime: string | null;
  eventTypeId: number | null;
  eventType: string | null;
  status: string | null;
  observedAt: Date;
}

/**
 * Stores a booking a session's page reported, as a hint (it links nothing: issue 13). One row
 * per booking per session; a repeat by the same session keeps the first and reports `created: false`.
 */
export async function insertObserved(tx: Tx, o: ObservedInput): Promise<{ created: boolean }> {
  const res = await tx.query(
    `INSERT INTO observed_bookings (tenant_id, uid, session_id, consent_receipt_id, start_time, end_time, event_type_id, event_type, status, observed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tenant_id, uid, session_id) DO NOTHING`,
    [o.tenantId, o.uid, o.sessionId, o.consentReceiptId, o.startTime, o.endTime, o.eventTypeId, o.eventType, o.status, o.observedAt],
  );
  return { created: (res.rowCount ?? 0) > 0 };
}

/** How many bookings a session has reported, and whether `uid` is one of them. */
export async function observedBySession(tx: Tx, sessionId: string, uid: string): Promise<{ count: number; has: boolean }> {
  const r = await tx.query<{ count: number; has: boolean }>(
    'SELECT count(*)::int AS count, coalesce(bool_or(uid = $2), false) AS has FROM observed_bookings WHERE session_id = $1',
    [sessionId, uid],
  );
  return r.rows[0]!;
}

/** The session whose stored nonce hash is `hash`, in the transaction's tenant (RLS) and `tenantId`. */
export async function findSessionByNonceHash(
  tx: Tx,
  tenantId: string,
  hash: Buffer,
): Promise<{ sessionId: string; consentReceiptId: string; nonceSha256: Buffer } | null> {
  const r = await tx.query<{ sessionId: string; consentReceiptId: string; nonceSha256: Buffer }>(
    `SELECT session_id AS "sessionId", id AS "consentReceiptId", nonce_sha256 AS "nonceSha256"
       FROM consent_receipts WHERE tenant_id = $1 AND nonce_sha256 = $2`,
    [tenantId, hash],
  );
  return r.rows[0] ?? null;
}

/** Serialises one session's observed reports to the transaction's end (bounded by its lock_timeout, db.ts). */
export async function lockSessionReports(tx: Tx, sessionId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [`observed:${sessionId}`]);
}
