import type { PrecedingWrites } from '../bookings/bookings.projection.js';
import { statementName, type Tx } from '../db/db.js';

export type DeliveryOutcome = 'accepted' | 'duplicate' | 'stale' | 'rejected';

/** What became of a stored delivery: applied to the bookings, or kept to apply later. */
export type InboxStatus = 'processed' | 'unprocessed';

export interface DeliveryRecord {
  id: string;
  receivedAt: Date;
  trigger: string | null;
  outcome: DeliveryOutcome;
  code: string | null;
  /** Null when nothing was stored under this line (refused, duplicate, or since deleted). */
  status: InboxStatus | null;
  reason: string | null;
}

/** A verified delivery as it is stored; `id` chosen by the caller (the booking events it produces name it) or by the database. */
export interface InboxRow {
  id?: string; tenantId: string; bodySha256: Buffer; trigger: string | null; eventCreatedAt: Date | null; bookingUid: string | null; receivedAt: Date; body: Buffer;
  status: InboxStatus; reason: string | null; processorVersion: number;
}

// The inbox row (nothing when the body, the delivery identity, or its (trigger, booking uid,
// createdAt), the event identity, was seen before) and its line in the delivery log, which
// says `duplicate` then. `i` has a row only for a new delivery.
const INBOX_CTES = `i AS (
       INSERT INTO webhook_inbox (id, tenant_id, body_sha256, trigger_event, event_created_at, booking_uid, received_at, body, status, reason, processor_version, processed_at)
       VALUES (coalesce($11::uuid, gen_random_uuid()), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $8 = 'processed' THEN $6::timestamptz END)
       ON CONFLICT DO NOTHING
       RETURNING id
     ), d AS (
       INSERT INTO webhook_deliveries (tenant_id, received_at, trigger_event, outcome, code, inbox_id)
       SELECT $1, $6, $3, CASE WHEN i.id IS NULL THEN 'duplicate' ELSE 'accepted' END, NULL, i.id
         FROM (SELECT 1) AS one LEFT JOIN i ON true
       RETURNING inbox_id, id
     )`;

const inboxValues = (d: InboxRow): unknown[] => [d.tenantId, d.bodySha256, d.trigger, d.eventCreatedAt, d.bookingUid, d.receivedAt, d.body, d.status, d.reason, d.processorVersion, d.id ?? null];

/**
 * Stores a verified delivery and its line in the delivery log, in one
 * statement. Returns the inbox id, or null when the body (delivery identity)
 * or its (trigger, booking uid, createdAt) (event identity) was seen before:
 * a duplicate, logged as such, which changes nothing else.
 */
export async function insertInbox(tx: Tx, d: InboxRow): Promise<{ inboxId: string; deliveryId: string } | null> {
  const r = await tx.query<{ inboxId: string | null; deliveryId: string }>({
    name: statementName(tx, 'insert_inbox_v3'),
    text: `WITH ${INBOX_CTES} SELECT inbox_id AS "inboxId", id::text AS "deliveryId" FROM d`,
    values: inboxValues(d),
  });
  const row = r.rows[0];
  return row?.inboxId ? { inboxId: row.inboxId, deliveryId: row.deliveryId } : null;
}

/**
 * The same writes as {@link insertInbox}, for the bookings projection to put first in the
 * statement of the delivery's first booking event (applyCalcomWebhookAfter): one round trip
 * stores and applies it. Its gate is the inbox row, so a duplicate applies nothing; the answer
 * carries `deliveryId`.
 */
export function inboxWrites(d: InboxRow & { id: string }): PrecedingWrites {
  return { name: 'store_delivery_v1', ctes: INBOX_CTES, gate: 'i', values: inboxValues(d), returns: '(SELECT id::text FROM d) AS "deliveryId"' };
}

/** A stored delivery as reprocessing reads it, locked for the transaction. */
export interface StoredDelivery {
  inboxId: string;
  status: InboxStatus;
  reason: string | null;
  body: Buffer;
  receivedAt: Date;
}

/**
 * The stored delivery behind a line of the delivery log: `null` when there is
 * no such line, `'not_stored'` when the line stored nothing (refused, duplicate,
 * or the body was deleted by retention since).
 */
export async function storedDeliveryForUpdate(tx: Tx, deliveryId: string): Promise<StoredDelivery | 'not_stored' | null> {
  const line = await tx.query<{ inboxId: string | null }>('SELECT inbox_id AS "inboxId" FROM webhook_deliveries WHERE id = $1', [deliveryId]);
  if (line.rowCount === 0) return null;
  const inboxId = line.rows[0]!.inboxId;
  if (!inboxId) return 'not_stored';
  const r = await tx.query<StoredDelivery>(
    'SELECT id AS "inboxId", status, reason, body, received_at AS "receivedAt" FROM webhook_inbox WHERE id = $1 FOR UPDATE',
    [inboxId],
  );
  return r.rows[0] ?? 'not_stored';
}

/** Records the outcome of an attempt to apply a stored delivery. */
export async function markInbox(tx: Tx, inboxId: string, d: { status: InboxStatus; reason: string | null; processorVersion: number; now: Date; body?: Buffer }): Promise<void> {
  await tx.query(
    `UPDATE webhook_inbox SET status = $2, reason = $3, processor_version = $4,
            processed_at = CASE WHEN $2 = 'processed' THEN $5::timestamptz ELSE processed_at END, body = coalesce($6, body)
      WHERE id = $1`,
    [inboxId, d.status, d.reason, d.processorVersion, d.now, d.body ?? null],
  );
}

/** Delivery-log ids of unprocessed deliveries an older processor tried, oldest first. */
export async function outdatedUnprocessed(tx: Tx, processorVersion: number, limit: number): Promise<string[]> {
  const r = await tx.query<{ id: string }>(
    `SELECT d.id::text AS id FROM webhook_inbox i JOIN webhook_deliveries d ON d.tenant_id = i.tenant_id AND d.inbox_id = i.id
      WHERE i.status = 'unprocessed' AND i.processor_version < $1
      ORDER BY i.received_at, d.id LIMIT $2`,
    [processorVersion, limit],
  );
  return r.rows.map((row) => row.id);
}

/** One line of the delivery log; never a body. */
export async function insertDelivery(
  tx: Tx,
  d: { tenantId: string; receivedAt: Date; trigger: string | null; outcome: DeliveryOutcome; code: string | null; inboxId: string | null },
): Promise<void> {
  await tx.query(
    'INSERT INTO webhook_deliveries (tenant_id, received_at, trigger_event, outcome, code, inbox_id) VALUES ($1, $2, $3, $4, $5, $6)',
    [d.tenantId, d.receivedAt, d.trigger, d.outcome, d.code, d.inboxId],
  );
}

/**
 * Costs what {@link insertDelivery} costs and writes nothing: the unknown-tenant
 * path runs it so that its timing matches a known tenant's refused delivery.
 */
export async function insertNoDelivery(tx: Tx, receivedAt: Date): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_deliveries (tenant_id, received_at, trigger_event, outcome, code, inbox_id)
     SELECT $1::uuid, $2, NULL, 'rejected', 'unknown_tenant', NULL WHERE false`,
    ['00000000-0000-0000-0000-000000000000', receivedAt],
  );
}

/** The delivery log, newest first, after the id `before` (exclusive). */
export async function listDeliveries(tx: Tx, limit: number, before: string | null): Promise<DeliveryRecord[]> {
  const r = await tx.query<DeliveryRecord>(
    `SELECT d.id::text AS id, d.received_at AS "receivedAt", d.trigger_event AS trigger, d.outcome, d.code, i.status, i.reason
       FROM webhook_deliveries d LEFT JOIN webhook_inbox i ON i.tenant_id = d.tenant_id AND i.id = d.inbox_id
      WHERE ($1::bigint IS NULL OR d.id < $1) ORDER BY d.id DESC LIMIT $2`,
    [before, limit],
  );
  return r.rows;
}
