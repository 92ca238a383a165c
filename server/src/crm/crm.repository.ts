import type { Tx } from '../db/db.js';

// SQL of the CRM hand-off. Every function runs inside db.withTenant: row-level
// security confines it to one tenant.

/** Every event a destination can receive (the outbox, crm.outbox.ts, writes them; kept here, below it, so no import goes back up). */
export type CrmEventType = 'lead.created' | 'lead.updated' | 'booking.created' | 'booking.cancelled' | 'booking.rescheduled' | 'subject.erased';

export type DestinationKind = 'webhook' | 'hubspot';

export interface DestinationRecord {
  id: string;
  kind: DestinationKind;
  url: string;
  events: CrmEventType[] | null;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const DEST = `id, kind, url, events, status, disabled_reason AS "disabledReason", created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function insertDestination(
  tx: Tx,
  d: { tenantId: string; kind: DestinationKind; url: string; events: CrmEventType[] | null; now: Date },
): Promise<DestinationRecord> {
  const r = await tx.query<DestinationRecord>(
    `INSERT INTO crm_destinations (tenant_id, kind, url, events, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING ${DEST}`,
    [d.tenantId, d.kind, d.url, d.events, d.now],
  );
  return r.rows[0]!;
}

export async function findDestination(tx: Tx, id: string, lock = false): Promise<DestinationRecord | null> {
  const r = await tx.query<DestinationRecord>(`SELECT ${DEST} FROM crm_destinations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ?? null;
}

export async function listDestinations(tx: Tx): Promise<DestinationRecord[]> {
  const r = await tx.query<DestinationRecord>(`SELECT ${DEST} FROM crm_destinations ORDER BY created_at, id`);
  return r.rows;
}

export async function updateDestination(
  tx: Tx,
  id: string,
  patch: { url?: string; events?: CrmEventType[] | null; status?: 'active' | 'disabled'; disabledReason?: string | null },
  now: Date,
): Promise<DestinationRecord | null> {
  const r = await tx.query<DestinationRecord>(
    `UPDATE crm_destinations SET
        url = CASE WHEN $2 THEN $3 ELSE url END,
        events = CASE WHEN $4 THEN $5::text[] ELSE events END,
        status = coalesce($6, status),
        disabled_reason = CASE WHEN $7 THEN $8 ELSE disabled_reason END,
        updated_at = $9
      WHERE id = $1 RETURNING ${DEST}`,
    [
      id,
      patch.url !== undefined, patch.url ?? null,
      patch.events !== undefined, patch.events ?? null,
      patch.status ?? null,
      patch.disabledReason !== undefined, patch.disabledReason ?? null,
      now,
    ],
  );
  return r.rows[0] ?? null;
}

export async function deleteDestination(tx: Tx, id: string): Promise<boolean> {
  const r = await tx.query('DELETE FROM crm_destinations WHERE id = $1', [id]);
  return (r.rowCount ?? 0) > 0;
}

/** Disables a destination (e.g. its receiver answered 410). */
export async function disableDestination(tx: Tx, id: string, reason: string, now: Date): Promise<void> {
  await tx.query(`UPDATE crm_destinations SET status = 'disabled', disabled_reason = $2, updated_at = $3 WHERE id = $1`, [id, reason, now]);
}

// --- secrets ---

export interface SealedDestinationSecret {
  id: string;
  ciphertext: string;
  createdAt: Date;
  expiresAt: Date | null;
}

export async function insertSecret(tx: Tx, s: { tenantId: string; destinationId: string; ciphertext: string; keyId: string; now: Date }): Promise<void> {
  await tx.query(
    `INSERT INTO crm_destination_secrets (tenant_id, destination_id, ciphertext, key_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
    [s.tenantId, s.destinationId, s.ciphertext, s.keyId, s.now],
  );
}

/** Secrets of a destination still valid at `now`, newest first. */
export async function activeSecrets(tx: Tx, destinationId: string, now: Date): Promise<SealedDestinationSecret[]> {
  const r = await tx.query<SealedDestinationSecret>(
    `SELECT id, ciphertext, created_at AS "createdAt", expires_at AS "expiresAt" FROM crm_destination_secrets
      WHERE destination_id = $1 AND (expires_at IS NULL OR expires_at > $2)
      ORDER BY created_at DESC, id`,
    [destinationId, now],
  );
  return r.rows;
}

/**
 * Starts the overlap of the current secret (valid until `until`), ends any
 * older overlap now and deletes expired ones: at most two secrets sign.
 */
export async function retireSecrets(tx: Tx, destinationId: string, now: Date, until: Date): Promise<void> {
  await tx.query('DELETE FROM crm_destination_secrets WHERE destination_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2', [destinationId, now]);
  await tx.query('UPDATE crm_destination_secrets SET expires_at = $2 WHERE destination_id = $1 AND expires_at IS NOT NULL', [destinationId, now]);
  await tx.query('UPDATE crm_destination_secrets SET expires_at = $2 WHERE destination_id = $1 AND expires_at IS NULL', [destinationId, until]);
}

// --- messages ---

/**
 * One message per active destination subscribed to the event type (crm.outbox.ts), deduplicated per
 * destination by `dedupeKey`; the new messages' ids, in destination order.
 */
export async function insertMessages(
  tx: Tx,
  m: { tenantId: string; leadId: string | null; type: CrmEventType; data: Record<string, unknown>; dedupeKey: string | null; now: Date | null },
): Promise<string[]> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO crm_messages (tenant_id, destination_id, lead_id, order_key, event_type, payload, dedupe_key, next_attempt_at, created_at)
     SELECT $1, d.id, $2::uuid, coalesce($2::text, gen_random_uuid()::text), $3,
            jsonb_build_object('type', $3::text, 'timestamp', to_char(coalesce($6::timestamptz, statement_timestamp()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', $4::jsonb),
            $5, 'epoch', coalesce($6::timestamptz, statement_timestamp())
       FROM crm_destinations d
      WHERE d.status = 'active' AND (d.events IS NULL OR $3 = ANY (d.events))
      ORDER BY d.created_at, d.id
     ON CONFLICT (tenant_id, destination_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
     RETURNING id`,
    [m.tenantId, m.leadId, m.type, JSON.stringify(m.data), m.dedupeKey, m.now],
  );
  return r.rows.map((row) => row.id);
}

export type MessageStatus = 'pending' | 'delivered' | 'dead' | 'cancelled';

export interface MessageRecord {
  id: string;
  seq: string;
  destinationId: string;
  leadId: string | null;
  orderKey: string;
  eventType: CrmEventType;
  payload: Record<string, unknown>;
  status: MessageStatus;
  attempts: number;
  nextAttemptAt: Date;
  leaseUntil: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

const MSG = `m.id, m.seq::text AS seq, m.destination_id AS "destinationId", m.lead_id AS "leadId", m.order_key AS "orderKey",
  m.event_type AS "eventType", m.payload, m.status, m.attempts, m.next_attempt_at AS "nextAttemptAt",
  m.lease_until AS "leaseUntil", m.created_at AS "createdAt", m.delivered_at AS "deliveredAt"`;

export async function findMessage(tx: Tx, id: string, lock = false): Promise<MessageRecord | null> {
  const r = await tx.query<MessageRecord>(`SELECT ${MSG} FROM crm_messages m WHERE m.id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ?? null;
}

/** True when an earlier message of the same destination and order key is still pending: this one must wait. */
export async function hasEarlierPending(tx: Tx, m: Pick<MessageRecord, 'destinationId' | 'orderKey' | 'seq'>): Promise<boolean> {
  const r = await tx.query(
    `SELECT 1 FROM crm_messages WHERE destination_id = $1 AND order_key = $2 AND status = 'pending' AND seq < $3::bigint LIMIT 1`,
    [m.destinationId, m.orderKey, m.seq],
  );
  return (r.rowCount ?? 0) > 0;
}

/** The first pending message of a destination and order key (the one allowed to go next). */
export async function nextPending(tx: Tx, destinationId: string, orderKey: string): Promise<{ id: string; nextAttemptAt: Date } | null> {
  const r = await tx.query<{ id: string; nextAttemptAt: Date }>(
    `SELECT id, next_attempt_at AS "nextAttemptAt" FROM crm_messages
      WHERE destination_id = $1 AND order_key = $2 AND status = 'pending' ORDER BY seq LIMIT 1`,
    [destinationId, orderKey],
  );
  return r.rows[0] ?? null;
}

/**
 * Pending messages at the head of their order key, due and not leased, of
 * active destinations: what a sweep hands to the workers (after a crash, or a
 * destination enabled again).
 */
export async function dueHeads(tx: Tx, now: Date, limit: number): Promise<{ id: string }[]> {
  const r = await tx.query<{ id: string }>(
    `SELECT m.id FROM crm_messages m JOIN crm_destinations d ON d.tenant_id = m.tenant_id AND d.id = m.destination_id
      WHERE m.status = 'pending' AND d.status = 'active' AND m.next_attempt_at <= $1
        AND (m.lease_until IS NULL OR m.lease_until <= $1)
        AND NOT EXISTS (SELECT 1 FROM crm_messages e WHERE e.tenant_id = m.tenant_id AND e.destination_id = m.destination_id
                          AND e.order_key = m.order_key AND e.status = 'pending' AND e.seq < m.seq)
      ORDER BY m.seq LIMIT $2`,
    [now, limit],
  );
  return r.rows;
}

/** Takes the message for one attempt: counts it, leases it and opens its attempt row. Returns the attempt number. */
export async function startAttempt(tx: Tx, tenantId: string, messageId: string, now: Date, leaseUntil: Date): Promise<number> {
  // A worker that died mid-request left its attempt open; it ends as "abandoned".
  await tx.query(`UPDATE crm_attempts SET outcome = 'abandoned', finished_at = $2 WHERE message_id = $1 AND outcome = 'in_flight'`, [messageId, now]);
  const r = await tx.query<{ attempts: number }>(
    `UPDATE crm_messages SET attempts = attempts + 1, lease_until = $2 WHERE id = $1 RETURNING attempts`,
    [messageId, leaseUntil],
  );
  const attempt = r.rows[0]!.attempts;
  await tx.query(`INSERT INTO crm_attempts (tenant_id, message_id, attempt, started_at, outcome) VALUES ($1, $2, $3, $4, 'in_flight')`, [
    tenantId, messageId, attempt, now,
  ]);
  return attempt;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'gone' | 'dead';

/**
 * Closes an attempt and moves the message accordingly, unless the message
 * moved on meanwhile (its lease ran out and another attempt started): then
 * nothing changes and false is returned.
 */
export async function finishAttempt(
  tx: Tx,
  a: { messageId: string; attempt: number; now: Date; statusCode: number | null; outcome: AttemptOutcome; error: string | null; nextAttemptAt: Date | null },
): Promise<boolean> {
  const status: MessageStatus = a.outcome === 'delivered' ? 'delivered' : a.outcome === 'dead' ? 'dead' : 'pending';
  const r = await tx.query(
    `UPDATE crm_messages SET status = $3, lease_until = NULL, last_status = $4, last_error = $5,
            next_attempt_at = coalesce($6, next_attempt_at), delivered_at = CASE WHEN $3 = 'delivered' THEN $7 ELSE delivered_at END
      WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
    [a.messageId, a.attempt, status, a.statusCode, a.error, a.nextAttemptAt, a.now],
  );
  await tx.query(
    `UPDATE crm_attempts SET outcome = $3, status_code = $4, error = $5, finished_at = $6 WHERE message_id = $1 AND attempt = $2 AND outcome = 'in_flight'`,
    [a.messageId, a.attempt, a.outcome, a.statusCode, a.error, a.now],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Puts a finished message back in line to be sent again as soon as its turn comes. */
export async function requeueMessage(tx: Tx, id: string): Promise<void> {
  await tx.query(
    `UPDATE crm_messages SET status = 'pending', attempts = 0, next_attempt_at = 'epoch', lease_until = NULL, delivered_at = NULL WHERE id = $1`,
    [id],
  );
}

// --- deliveries (admin view) ---

export interface AttemptRecord {
  messageId: string;
  attempt: number;
  startedAt: Date;
  finishedAt: Date | null;
  statusCode: number | null;
  outcome: 'in_flight' | 'delivered' | 'retry' | 'gone' | 'dead' | 'abandoned';
  error: string | null;
}

export async function listMessages(
  tx: Tx,
  f: { status: MessageStatus | null; destinationId: string | null; leadId: string | null; beforeSeq: string | null; limit: number },
): Promise<MessageRecord[]> {
  const r = await tx.query<MessageRecord>(
    `SELECT ${MSG} FROM crm_messages m
      WHERE ($1::text IS NULL OR m.status = $1) AND ($2::uuid IS NULL OR m.destination_id = $2)
        AND ($3::uuid IS NULL OR m.lead_id = $3) AND ($4::bigint IS NULL OR m.seq < $4::bigint)
      ORDER BY m.seq DESC LIMIT $5`,
    [f.status, f.destinationId, f.leadId, f.beforeSeq, f.limit],
  );
  return r.rows;
}

export async function attemptsOf(tx: Tx, messageIds: string[]): Promise<AttemptRecord[]> {
  if (messageIds.length === 0) return [];
  const r = await tx.query<AttemptRecord>(
    `SELECT message_id AS "messageId", attempt, started_at AS "startedAt", finished_at AS "finishedAt", status_code AS "statusCode", outcome, error
       FROM crm_attempts WHERE message_id = ANY ($1::uuid[]) ORDER BY id`,
    [messageIds],
  );
  return r.rows;
}

// --- HubSpot contact ids (for the GDPR delete of an erased lead) ---

/** Records the HubSpot contact a destination created or updated for a lead. */
export async function rememberHubspotContact(tx: Tx, c: { tenantId: string; destinationId: string; leadId: string; contactId: string; now: Date }): Promise<void> {
  await tx.query(
    `INSERT INTO crm_hubspot_contacts (tenant_id, destination_id, lead_id, contact_id, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, destination_id, lead_id) DO UPDATE SET contact_id = EXCLUDED.contact_id, updated_at = EXCLUDED.updated_at`,
    [c.tenantId, c.destinationId, c.leadId, c.contactId, c.now],
  );
}

/** The HubSpot contact id recorded for a lead at a destination, if any. */
export async function findHubspotContact(tx: Tx, destinationId: string, leadId: string): Promise<string | null> {
  const r = await tx.query<{ contactId: string }>(`SELECT contact_id AS "contactId" FROM crm_hubspot_contacts WHERE destination_id = $1 AND lead_id = $2`, [destinationId, leadId]);
  return r.rows[0]?.contactId ?? null;
}

/** Drops the record once HubSpot deleted that contact (unless it was replaced meanwhile). */
export async function forgetHubspotContact(tx: Tx, destinationId: string, leadId: string, contactId: string): Promise<void> {
  await tx.query(`DELETE FROM crm_hubspot_contacts WHERE destination_id = $1 AND lead_id = $2 AND contact_id = $3`, [destinationId, leadId, contactId]);
}
