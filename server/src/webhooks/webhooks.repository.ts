import { statementName, type Tx } from '../db/db.js';

export type DeliveryOutcome = 'accepted' | 'duplicate' | 'stale' | 'rejected';

export interface DeliveryRecord {
  id: string;
  receivedAt: Date;
  trigger: string | null;
  outcome: DeliveryOutcome;
  code: string | null;
}

/**
 * Stores a verified delivery and its line in the delivery log, in one
 * statement. Returns the inbox id, or null when the body (delivery identity)
 * or its (trigger, booking uid, createdAt) (event identity) was seen before:
 * a duplicate, logged as such, which changes nothing else.
 */
export async function insertInbox(
  tx: Tx,
  d: { tenantId: string; bodySha256: Buffer; trigger: string; eventCreatedAt: Date; bookingUid: string | null; receivedAt: Date; body: Buffer },
): Promise<string | null> {
  const r = await tx.query<{ id: string | null }>({ name: statementName(tx, 'insert_inbox'), text:
    `WITH i AS (
       INSERT INTO webhook_inbox (tenant_id, body_sha256, trigger_event, event_created_at, booking_uid, received_at, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT DO NOTHING
       RETURNING id
     )
     INSERT INTO webhook_deliveries (tenant_id, received_at, trigger_event, outcome, code, inbox_id)
     SELECT $1, $6, $3, CASE WHEN i.id IS NULL THEN 'duplicate' ELSE 'accepted' END, NULL, i.id
       FROM (SELECT 1) AS one LEFT JOIN i ON true
     RETURNING inbox_id AS id`,
    values: [d.tenantId, d.bodySha256, d.trigger, d.eventCreatedAt, d.bookingUid, d.receivedAt, d.body] },
  );
  return r.rows[0]?.id ?? null;
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
    `SELECT id::text AS id, received_at AS "receivedAt", trigger_event AS trigger, outcome, code
       FROM webhook_deliveries WHERE ($1::bigint IS NULL OR id < $1) ORDER BY webhook_deliveries.id DESC LIMIT $2`,
    [before, limit],
  );
  return r.rows;
}

/** Raw verified deliveries of one booking, oldest event first: what a rebuild replays. */
export async function inboxForBooking(tx: Tx, bookingUid: string): Promise<{ id: string; body: Buffer }[]> {
  const r = await tx.query<{ id: string; body: Buffer }>(
    'SELECT id, body FROM webhook_inbox WHERE booking_uid = $1 ORDER BY event_created_at, received_at',
    [bookingUid],
  );
  return r.rows;
}
