import { BOOKING_COLUMNS, BOOKING_EVENT_COLUMNS, type Attendee, type BookingEventRecord, type BookingRecord, type Organizer } from '../bookings/bookings.columns.js';
import type { QueryResultRow } from 'pg';
import { statementName, type Tx } from '../db/db.js';
import { LEAD, type LeadRecord } from '../leads/leads.columns.js';
import type { ReceiptInput } from '../sessions/sessions.service.js';

// SQL of the GDPR capability. Every function runs inside db.withTenant, so
// row-level security limits it to one tenant. Emails arrive normalised
// (trimmed, lower case); matching is case-insensitive.

/** Characters an email address can contain: another one of them next to a match means a longer, different address. */
const EMAIL_CHAR = "a-z0-9._%+'-";

const regexQuote = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/**
 * A POSIX regular expression (PostgreSQL `~`) that finds the email as a whole
 * address in lower-cased text: `ann@example.com` matches in `"ann@example.com"`
 * or `?to=ann@example.com&` but not inside `joann@example.com` or
 * `ann@example.community`. A plain substring search would hand another
 * person's records to this person's export, or erase them.
 */
export function emailPattern(email: string): string {
  return `(^|[^${EMAIL_CHAR}])${regexQuote(email.toLowerCase())}($|[^${EMAIL_CHAR}]|\\.($|[^a-z0-9]))`;
}

/**
 * The same for raw bodies (bytea) searched as `lower(encode(body, 'escape'))`,
 * which keeps ASCII as is and writes other bytes as `\ooo`: the email is
 * encoded the same way first. Works on bytes that are not UTF-8 too.
 */
export function escapedEmailPattern(email: string): string {
  return `(^|[^${EMAIL_CHAR}])${regexQuote(escaped(email))}($|[^${EMAIL_CHAR}]|\\.($|[^a-z0-9]))`;
}

/** The email as `lower(encode(body, 'escape'))` writes it. */
export function escaped(email: string): string {
  let encoded = '';
  for (const byte of Buffer.from(email.toLowerCase(), 'utf8')) {
    encoded += byte >= 0x80 || byte === 0 ? `\\${byte.toString(8).padStart(3, '0')}` : byte === 0x5c ? '\\\\' : String.fromCharCode(byte);
  }
  return encoded;
}

/** Whether {@link rowsMentioning} can use the index for this address (else every row is a candidate). */
const hasMentionKey = (email: string) => /[a-z0-9._%+'-]@[a-z0-9_%+'-]/.test(email);

/**
 * The rows of `table` a search for the person needs to look at, as a FROM item named `alias`.
 * Migration 0021 keeps, for every row of the six searched tables, a short key of each address its
 * text mentions (`subject_mentions`): the rows whose text has the address's key (an index lookup),
 * plus those `also` selects by key (the person's bookings' rows, their leads' messages). The
 * caller's WHERE is the same search as before (the regular expression), now on those rows only,
 * not on every row of the tenant. `$n` holds the address as the table's text holds it (raw
 * bodies: escape-encoded); `key` is the row key, `cast` the cast from the index's text key to it.
 *
 * Each candidate key is then looked up on its own (LATERAL … OFFSET 0: one primary-key probe per
 * key). These statements run generic plans (decision 0039), made without knowing how many keys
 * the lookups find; as a join, the planner weighed that guess against reading the whole tenant and
 * read every lead to hash-join a single key. The outer OFFSET 0 keeps the search's condition out
 * of the subquery (the planner estimates its OR at one row and would again read every row).
 *
 * An address without a key (no address character right before or after its '@', as in
 * `ann!@example.com`, which the subject schema accepts) makes every row of the tenant a candidate,
 * as before the index.
 */
function rowsMentioning(email: string, n: number, table: string, alias: string, key: string, cast: string, also?: string): string {
  // No key: every row (`also` stays in the text so that its parameters keep their types).
  if (!hasMentionKey(email)) return `(SELECT * FROM ${table} WHERE $${n}::text IS NOT NULL${also ? ` OR ${key} IN (${also})` : ''} OFFSET 0) ${alias}`;
  const mentions = `SELECT sm.row_key${cast} FROM subject_mentions sm WHERE sm.source = '${table}' AND sm.mention = ANY(calbridge_mention_keys($${n}::text))`;
  return `(SELECT hit.* FROM (${also ? `${also} UNION ` : ''}${mentions}) k(candidate)
     CROSS JOIN LATERAL (SELECT * FROM ${table} WHERE ${key} = k.candidate OFFSET 0) hit OFFSET 0) ${alias}`;
}

/**
 * Runs one statement of the subject search prepared under `name` on this connection, so that in a
 * GENERIC_PLANS transaction (db.ts) its plan is made once, not at every export (decision 0039).
 * A statement whose text depends on the address (keyed or not) carries that in its name: one
 * name must always mean one text.
 */
function run<R extends QueryResultRow = Record<string, never>>(tx: Tx, name: string, text: string, values: unknown[]) {
  return tx.query<R>({ name: statementName(tx, `gdpr_${name}`), text, values });
}

/**
 * Bookings that concern the person: they attend, organise, or their email
 * appears in the title, metadata, cancellation or rejection reason; oldest first.
 */
export async function subjectBookings(tx: Tx, email: string): Promise<BookingRecord[]> {
  // Every address of attendee_emails and the organizer is in the mention text too (0021).
  const r = await run<BookingRecord>(tx, `bookings${hasMentionKey(email) ? '' : '_all'}`,
    `SELECT ${BOOKING_COLUMNS} FROM ${rowsMentioning(email, 1, 'bookings', 'bookings', 'uid', '')}
      WHERE attendee_emails @> ARRAY[$1::text]
         OR lower(organizer->>'email') = $1
         OR lower(attendees::text) ~ $2
         OR lower(coalesce(metadata::text, '')) ~ $2
         OR lower(coalesce(title, '')) ~ $2
         OR lower(coalesce(cancellation_reason, '')) ~ $2
         OR lower(coalesce(rejection_reason, '')) ~ $2
      ORDER BY coalesce(start_time, '-infinity'::timestamptz), uid`,
    [email, emailPattern(email)],
  );
  return r.rows;
}

export async function eventsOf(tx: Tx, uids: string[]): Promise<(BookingEventRecord & { bookingUid: string; inboxId: string | null })[]> {
  const r = await run<BookingEventRecord & { bookingUid: string; inboxId: string | null }>(tx, 'events',
    `SELECT ${BOOKING_EVENT_COLUMNS}, booking_uid AS "bookingUid", inbox_id AS "inboxId"
       FROM booking_events WHERE booking_uid = ANY($1::text[]) ORDER BY booking_uid, occurred_at, rank, recorded_at`,
    [uids],
  );
  return r.rows;
}

export interface InboxRow {
  id: string;
  /** Null for a delivery kept unprocessed whose trigger could not be read. */
  trigger: string | null;
  /** Null for a delivery kept unprocessed, or without a readable createdAt. */
  eventCreatedAt: Date | null;
  receivedAt: Date;
  bookingUid: string | null;
  body: Buffer;
}

/** Raw deliveries of the person's bookings, and any other delivery whose body names their email. */
export async function subjectInbox(tx: Tx, email: string, uids: string[]): Promise<InboxRow[]> {
  const from = rowsMentioning(escaped(email), 3, 'webhook_inbox', 'w', 'id', '::uuid', 'SELECT id FROM webhook_inbox WHERE booking_uid = ANY($2::text[])');
  const r = await run<InboxRow>(tx, `inbox${hasMentionKey(escaped(email)) ? '' : '_all'}`,
    `SELECT id, trigger_event AS trigger, event_created_at AS "eventCreatedAt", received_at AS "receivedAt",
            booking_uid AS "bookingUid", body
       FROM ${from}
      WHERE booking_uid = ANY($2::text[]) OR lower(encode(body, 'escape')) ~ $1
      ORDER BY event_created_at, received_at`,
    [escapedEmailPattern(email), uids, escaped(email)],
  );
  return r.rows;
}

export async function deliveriesOf(tx: Tx, inboxIds: string[]): Promise<{ id: string; receivedAt: Date; trigger: string | null; outcome: string; code: string | null; inboxId: string }[]> {
  const r = await run<{ id: string; receivedAt: Date; trigger: string | null; outcome: string; code: string | null; inboxId: string }>(tx, 'deliveries',
    `SELECT id::text AS id, received_at AS "receivedAt", trigger_event AS trigger, outcome, code, inbox_id AS "inboxId"
       FROM webhook_deliveries d WHERE d.inbox_id = ANY($1::uuid[]) ORDER BY d.id`,
    [inboxIds],
  );
  return r.rows;
}

/** A consent receipt as the widget sessions stored it, with its redaction and the bookings it justifies. */
export interface ConsentRow extends Omit<ReceiptInput, 'tenantId'> {
  id: string;
  redactedAt: Date | null;
  bookingUids: string[];
}

const CONSENT_COLUMNS = `c.id, c.session_id AS "sessionId", c.consent_version AS "consentVersion",
  c.consent_text_sha256 AS "consentTextSha256", c.purposes, c.page_origin AS "pageOrigin", c.page_url AS "pageUrl",
  c.referrer, c.utm, c.ip_prefix AS "ipPrefix", c.user_agent_family AS "userAgentFamily", c.created_at AS "createdAt",
  c.consent_source AS "consentSource", c.click_ids AS "clickIds", c.redacted_at AS "redactedAt",
  coalesce((SELECT array_agg(DISTINCT x.uid ORDER BY x.uid) FROM (
    SELECT o.uid FROM observed_bookings o WHERE o.consent_receipt_id = c.id
    UNION SELECT l.booking_uid FROM booking_consent_links l WHERE l.consent_receipt_id = c.id) x), '{}') AS "bookingUids"`;

/**
 * Consent receipts of the person: those whose session reported one of their
 * bookings, those a booking's metadata names (receipt or session id), and any
 * whose page URL, referrer or UTM values carry their email.
 */
export async function subjectConsents(tx: Tx, email: string, uids: string[], metadataIds: string[]): Promise<ConsentRow[]> {
  // Ids as uuid for the index; a value that is not a uuid's text (`c.id::text`) matches no receipt.
  // One lookup per id (LATERAL): as `= ANY($4)`, the generic plan (decision 0039) ANDed the id
  // index with the tenant's whole time index (the plan test caught it).
  const ids = metadataIds.filter((v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v));
  const from = rowsMentioning(
    email,
    5,
    'consent_receipts',
    'c',
    'id',
    '::uuid',
    `SELECT consent_receipt_id FROM observed_bookings WHERE uid = ANY($2::text[])
     UNION SELECT consent_receipt_id FROM booking_consent_links WHERE booking_uid = ANY($2::text[])
     UNION SELECT r.id FROM consent_receipts r WHERE r.session_id IN (SELECT session_id FROM observed_bookings WHERE uid = ANY($2::text[]))
     UNION SELECT r.id FROM unnest($4::uuid[]) v(id)
       CROSS JOIN LATERAL (SELECT id FROM consent_receipts WHERE id = v.id OR session_id = v.id OFFSET 0) r`,
  );
  const r = await run<ConsentRow>(tx, `consents${hasMentionKey(email) ? '' : '_all'}`,
    `SELECT ${CONSENT_COLUMNS} FROM ${from}
      WHERE c.id IN (SELECT consent_receipt_id FROM observed_bookings WHERE uid = ANY($2::text[]))
         OR c.id IN (SELECT consent_receipt_id FROM booking_consent_links WHERE booking_uid = ANY($2::text[]))
         OR c.session_id IN (SELECT session_id FROM observed_bookings WHERE uid = ANY($2::text[]))
         OR c.id::text = ANY($3::text[]) OR c.session_id::text = ANY($3::text[])
         OR lower(c.page_url) ~ $1 OR lower(c.referrer) ~ $1 OR lower(c.utm::text) ~ $1
      ORDER BY c.created_at DESC, c.id`,
    [emailPattern(email), uids, metadataIds, ids, email],
  );
  return r.rows;
}

/** Recent receipts, newest first, after the (createdAt, id) position given. */
export async function recentConsents(tx: Tx, limit: number, after: { createdAt: Date; id: string } | null): Promise<ConsentRow[]> {
  const r = await tx.query<ConsentRow>(
    `SELECT ${CONSENT_COLUMNS} FROM consent_receipts c
      WHERE ($1::timestamptz IS NULL OR (c.created_at, c.id) < ($1::timestamptz, $2::uuid))
      ORDER BY c.created_at DESC, c.id DESC LIMIT $3`,
    [after?.createdAt ?? null, after?.id ?? null, limit],
  );
  return r.rows;
}

export async function observedOf(tx: Tx, uids: string[]) {
  const r = await run<{ uid: string; sessionId: string; consentReceiptId: string; startTime: Date | null; endTime: Date | null; eventTypeId: number | null; eventType: string | null; status: string | null; observedAt: Date }>(tx, 'observed',
    `SELECT uid, session_id AS "sessionId", consent_receipt_id AS "consentReceiptId", start_time AS "startTime", end_time AS "endTime",
            event_type_id AS "eventTypeId", event_type AS "eventType", status, observed_at AS "observedAt"
       FROM observed_bookings WHERE uid = ANY($1::text[]) ORDER BY observed_at`,
    [uids],
  );
  return r.rows;
}

/** Native booking requests for the person's bookings, or whose key or stored answer names their email. */
export async function subjectNativeRequests(tx: Tx, email: string, uids: string[]) {
  // By booking, one index lookup per uid (LATERAL … OFFSET 0): the generic plan (decision 0039) of
  // `booking_uid = ANY($2)` guesses ten uids and, on a tenant with few native requests, reads them
  // all and filters (the plan test caught it); one uid at a time leaves it nothing to weigh.
  const byBooking = `SELECT r.idempotency_key FROM unnest($2::text[]) u(uid)
    CROSS JOIN LATERAL (SELECT idempotency_key FROM calcom_booking_requests WHERE booking_uid = u.uid OFFSET 0) r`;
  const from = rowsMentioning(email, 3, 'calcom_booking_requests', 'q', 'idempotency_key', '', byBooking);
  const r = await run<{ idempotencyKey: string; bookingUid: string | null; response: unknown; createdAt: Date }>(tx, `native${hasMentionKey(email) ? '' : '_all'}`,
    `SELECT idempotency_key AS "idempotencyKey", booking_uid AS "bookingUid", response, created_at AS "createdAt"
       FROM ${from}
      WHERE booking_uid = ANY($2::text[]) OR lower(idempotency_key) ~ $1 OR lower(coalesce(response::text, '')) ~ $1
      ORDER BY created_at`,
    [emailPattern(email), uids, email],
  );
  return r.rows;
}

// --- erasure writes ---

export async function rewriteInboxBody(tx: Tx, id: string, body: Buffer): Promise<void> {
  await run(tx, 'rewrite_inbox', 'UPDATE webhook_inbox SET body = $2 WHERE id = $1', [id, body]);
}

export async function rewriteBooking(
  tx: Tx,
  uid: string,
  b: { attendees: Attendee[]; attendeeEmails: string[]; organizer: Organizer | null; metadata: Record<string, unknown> | null },
  now: Date,
): Promise<void> {
  await run(tx, 'rewrite_booking',
    `UPDATE bookings SET attendees = $2, attendee_emails = $3, organizer = $4, metadata = $5, title = NULL,
            cancellation_reason = NULL, rejection_reason = NULL, updated_at = $6
      WHERE uid = $1`,
    [uid, JSON.stringify(b.attendees), b.attendeeEmails, b.organizer ? JSON.stringify(b.organizer) : null, b.metadata ? JSON.stringify(b.metadata) : null, now],
  );
}

/** The one-time redaction a consent receipt allows (see the trigger in 0007_gdpr.sql). */
export async function redactConsent(tx: Tx, id: string, pageUrl: string, referrer: string, now: Date): Promise<boolean> {
  const r = await run(tx, 'redact_consent',
    `UPDATE consent_receipts SET page_url = $2, referrer = $3, utm = '{}', click_ids = '{}', redacted_at = $4 WHERE id = $1 AND redacted_at IS NULL`,
    [id, pageUrl, referrer, now],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function deleteNativeRequests(tx: Tx, keys: string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const r = await run(tx, 'delete_native', 'DELETE FROM calcom_booking_requests WHERE idempotency_key = ANY($1::text[])', [keys]);
  return r.rowCount ?? 0;
}

/** Every tenant's id (platform scope: the daily retention task queues one job per tenant). */
export async function allTenantIds(tx: Tx): Promise<string[]> {
  const r = await tx.query<{ id: string }>('SELECT id FROM tenants ORDER BY id');
  return r.rows.map((row) => row.id);
}

export async function markErased(tx: Tx, tenantId: string, hash: Buffer, now: Date): Promise<void> {
  await run(tx, 'mark_erased',
    `INSERT INTO erased_subjects (tenant_id, subject_hash, erased_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, subject_hash) DO UPDATE SET erased_at = EXCLUDED.erased_at`,
    [tenantId, hash, now],
  );
}

export interface ReceiptRow {
  id: string;
  subjectRef: string;
  requestedBy: string | null;
  erasedAt: Date;
  counts: Record<string, { pseudonymised: number; deleted: number }>;
  calcom: { requested: boolean; status: string; cancellations: { bookingUid: string; outcome: 'cancelled' | 'failed'; code: string | null }[] };
  crm: { eventsEmitted: number; status: string };
}

const RECEIPT_COLUMNS = `id, subject_ref AS "subjectRef", requested_by AS "requestedBy", erased_at AS "erasedAt", counts, calcom, crm`;

export async function insertReceipt(tx: Tx, tenantId: string, r: Omit<ReceiptRow, 'id'>): Promise<ReceiptRow> {
  const res = await run<ReceiptRow>(tx, 'insert_receipt',
    `INSERT INTO erasure_receipts (tenant_id, subject_ref, requested_by, erased_at, counts, calcom, crm)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${RECEIPT_COLUMNS}`,
    [tenantId, r.subjectRef, r.requestedBy, r.erasedAt, JSON.stringify(r.counts), JSON.stringify(r.calcom), JSON.stringify(r.crm)],
  );
  return res.rows[0]!;
}

export async function setReceiptCalcom(tx: Tx, id: string, calcom: ReceiptRow['calcom']): Promise<void> {
  await tx.query('UPDATE erasure_receipts SET calcom = $2 WHERE id = $1', [id, JSON.stringify(calcom)]);
}

export async function receiptsFor(tx: Tx, subjectRef: string): Promise<ReceiptRow[]> {
  const r = await run<ReceiptRow>(tx, 'receipts', `SELECT ${RECEIPT_COLUMNS} FROM erasure_receipts WHERE subject_ref = $1 ORDER BY erased_at, id`, [subjectRef]);
  return r.rows;
}

// --- policy, retention, audit ---

export interface PolicyRow {
  rawDeliveryDays: number;
  bookingDays: number;
  consentReceiptDays: number;
  cancelFutureBookingsOnErasure: boolean;
}

export async function findPolicy(tx: Tx): Promise<PolicyRow | null> {
  const r = await tx.query<PolicyRow>(
    `SELECT raw_delivery_days AS "rawDeliveryDays", booking_days AS "bookingDays", consent_receipt_days AS "consentReceiptDays",
            cancel_future_bookings_on_erasure AS "cancelFutureBookingsOnErasure"
       FROM gdpr_policies`,
  );
  return r.rows[0] ?? null;
}

export async function upsertPolicy(tx: Tx, tenantId: string, p: PolicyRow, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO gdpr_policies (tenant_id, raw_delivery_days, booking_days, consent_receipt_days, cancel_future_bookings_on_erasure, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id) DO UPDATE SET raw_delivery_days = EXCLUDED.raw_delivery_days, booking_days = EXCLUDED.booking_days,
       consent_receipt_days = EXCLUDED.consent_receipt_days,
       cancel_future_bookings_on_erasure = EXCLUDED.cancel_future_bookings_on_erasure, updated_at = EXCLUDED.updated_at`,
    [tenantId, p.rawDeliveryDays, p.bookingDays, p.consentReceiptDays, p.cancelFutureBookingsOnErasure, now],
  );
}

export interface RetentionCounts {
  webhook_inbox: number;
  webhook_deliveries: number;
  bookings: number;
  booking_events: number;
  observed_bookings: number;
  calcom_booking_requests: number;
  consent_receipts: number;
}

/**
 * Deletes what is past its period, in one transaction:
 *  - raw deliveries (inbox bodies and their delivery-log lines) received before `rawBefore`;
 *  - bookings whose last moment (end, else start, else last update) is before
 *    `bookingBefore`, with their history, raw deliveries, widget observations
 *    and native booking requests;
 *  - consent receipts created before `consentBefore` that no kept booking
 *    still relies on (their observations go with them).
 */
export async function enforceRetention(tx: Tx, c: { rawBefore: Date; bookingBefore: Date; consentBefore: Date }): Promise<RetentionCounts> {
  const expired = await tx.query<{ uid: string }>(
    // greatest(coalesce(end_time, start_time, updated_at), updated_at) < $1, split so its first half is an index
    // condition (bookings_tenant_updated, migration 0018): under row-level security an expression of function
    // calls is not leakproof and cannot be one.
    `SELECT uid FROM bookings WHERE updated_at < $1 AND coalesce(end_time, start_time, updated_at) < $1`,
    [c.bookingBefore],
  );
  const uids = expired.rows.map((r) => r.uid);
  const n = async (sql: string, params: unknown[]) => (await tx.query(sql, params)).rowCount ?? 0;
  const bookingEvents = await n('DELETE FROM booking_events WHERE booking_uid = ANY($1::text[])', [uids]);
  const observed = await n('DELETE FROM observed_bookings WHERE uid = ANY($1::text[])', [uids]);
  const native = await n('DELETE FROM calcom_booking_requests WHERE booking_uid = ANY($1::text[])', [uids]);
  const bookings = await n('DELETE FROM bookings WHERE uid = ANY($1::text[])', [uids]);
  const inbox = await tx.query<{ id: string }>(
    'DELETE FROM webhook_inbox WHERE received_at < $1 OR booking_uid = ANY($2::text[]) RETURNING id',
    [c.rawBefore, uids],
  );
  const inboxIds = inbox.rows.map((r) => r.id);
  const deliveries = await n('DELETE FROM webhook_deliveries WHERE received_at < $1 OR inbox_id = ANY($2::uuid[])', [c.rawBefore, inboxIds]);
  const consentObserved = await tx.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM consent_receipts c
        WHERE c.created_at < $1
          AND NOT EXISTS (SELECT 1 FROM observed_bookings o JOIN bookings b ON b.uid = o.uid WHERE o.consent_receipt_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM booking_consent_links l WHERE l.consent_receipt_id = c.id)
        RETURNING c.id
     ) SELECT count(*)::int AS n FROM gone`,
    [c.consentBefore],
  );
  return {
    webhook_inbox: inboxIds.length,
    webhook_deliveries: deliveries,
    bookings,
    booking_events: bookingEvents,
    observed_bookings: observed,
    calcom_booking_requests: native,
    consent_receipts: consentObserved.rows[0]!.n,
  };
}

export async function insertRun(tx: Tx, tenantId: string, ranAt: Date, cutoffs: Record<string, string>, counts: RetentionCounts): Promise<void> {
  await tx.query('INSERT INTO retention_runs (tenant_id, ran_at, cutoffs, counts) VALUES ($1, $2, $3, $4)', [tenantId, ranAt, JSON.stringify(cutoffs), JSON.stringify(counts)]);
}

export async function lastRun(tx: Tx): Promise<{ ranAt: Date; cutoffs: Record<string, string>; counts: Record<string, number> } | null> {
  const r = await tx.query<{ ranAt: Date; cutoffs: Record<string, string>; counts: Record<string, number> }>(
    'SELECT ran_at AS "ranAt", cutoffs, counts FROM retention_runs ORDER BY ran_at DESC, id LIMIT 1',
  );
  return r.rows[0] ?? null;
}

export type AuditAction = 'subject.export' | 'subject.erase' | 'consents.list' | 'retention.update' | 'retention.run';
export type ActorKind = 'admin_token' | 'environment_token' | 'scheduler' | 'console_session';

export async function insertAudit(
  tx: Tx,
  a: { tenantId: string; at: Date; actorToken: string | null; actorKind: ActorKind; actorSubject?: string | null; action: AuditAction; subjectRef: string | null; details: Record<string, unknown> },
): Promise<void> {
  await run(tx, 'audit',
    'INSERT INTO gdpr_audit_log (tenant_id, at, actor_token, actor_kind, action, subject_ref, details, actor_subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [a.tenantId, a.at, a.actorToken, a.actorKind, a.action, a.subjectRef, JSON.stringify(a.details), a.actorSubject ?? null],
  );
}

export async function listAudit(tx: Tx, limit: number, before: string | null) {
  const r = await tx.query<{ id: string; at: Date; actorToken: string | null; actorKind: ActorKind; actorSubject: string | null; action: AuditAction; subjectRef: string | null; details: Record<string, unknown> }>(
    `SELECT a.id::text AS id, at, actor_token AS "actorToken", actor_kind AS "actorKind", actor_subject AS "actorSubject", action, subject_ref AS "subjectRef", details
       FROM gdpr_audit_log a WHERE ($1::bigint IS NULL OR a.id < $1) ORDER BY a.id DESC LIMIT $2`,
    [before, limit],
  );
  return r.rows;
}

// --- leads and CRM (migration 0006) ---

/** A lead as the leads capability stores it. */
export type LeadRow = LeadRecord;

export async function subjectLeads(tx: Tx, email: string): Promise<LeadRow[]> {
  // The lead's own email is in the mention text too (0021).
  const r = await run<LeadRow>(tx, `leads${hasMentionKey(email) ? '' : '_all'}`,
    `SELECT ${LEAD} FROM ${rowsMentioning(email, 1, 'leads', 'leads', 'id', '::uuid')} WHERE email = $1 OR lower(explanation::text) ~ $2 ORDER BY created_at`,
    [email, emailPattern(email)],
  );
  return r.rows;
}

export interface CrmMessageRow {
  id: string;
  destinationId: string;
  destinationKind: string | null;
  leadId: string | null;
  eventType: string;
  payload: unknown;
  status: string;
  attempts: number;
  createdAt: Date;
  deliveredAt: Date | null;
  attemptLog: { attempt: number; startedAt: string; finishedAt: string | null; statusCode: number | null; outcome: string; error: string | null }[];
}

/** The CRM records that point at the person's leads (HubSpot contact ids; migration 0010). */
export async function subjectCrmContacts(tx: Tx, leadIds: string[]): Promise<{ destinationId: string; leadId: string; contactId: string; updatedAt: Date }[]> {
  if (leadIds.length === 0) return [];
  const r = await run<{ destinationId: string; leadId: string; contactId: string; updatedAt: Date }>(tx, 'crm_contacts',
    `SELECT destination_id AS "destinationId", lead_id AS "leadId", contact_id AS "contactId", updated_at AS "updatedAt"
       FROM crm_hubspot_contacts WHERE lead_id = ANY($1::uuid[]) ORDER BY updated_at`,
    [leadIds],
  );
  return r.rows;
}

/** CRM messages about the person (their lead, or a payload naming their email), with every delivery attempt. */
export async function subjectCrmMessages(tx: Tx, email: string, leadIds: string[]): Promise<CrmMessageRow[]> {
  const from = rowsMentioning(email, 3, 'crm_messages', 'm', 'id', '::uuid', 'SELECT id FROM crm_messages WHERE lead_id = ANY($2::uuid[])');
  const r = await run<CrmMessageRow>(tx, `crm_messages${hasMentionKey(email) ? '' : '_all'}`,
    `SELECT m.id, m.destination_id AS "destinationId", d.kind AS "destinationKind", m.lead_id AS "leadId", m.event_type AS "eventType",
            m.payload, m.status, m.attempts, m.created_at AS "createdAt", m.delivered_at AS "deliveredAt",
            coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'startedAt', a.started_at, 'finishedAt', a.finished_at,
                       'statusCode', a.status_code, 'outcome', a.outcome, 'error', a.error) ORDER BY a.id)
                        FROM crm_attempts a WHERE a.message_id = m.id), '[]'::jsonb) AS "attemptLog"
       FROM ${from} LEFT JOIN crm_destinations d ON d.id = m.destination_id
      WHERE m.lead_id = ANY($2::uuid[]) OR lower(m.payload::text) ~ $1
      ORDER BY m.seq`,
    [emailPattern(email), leadIds, email],
  );
  return r.rows;
}

/**
 * Removes the person's data from CRM messages: payloads become a stub naming
 * only the event, and messages not sent yet are cancelled so the data never
 * leaves after the erasure. Returns how many messages were rewritten.
 */
export async function scrubCrmMessages(tx: Tx, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await run(tx, 'crm_scrub',
    `UPDATE crm_messages SET payload = jsonb_build_object('type', event_type, 'timestamp', payload->'timestamp', 'data', jsonb_build_object('erased', true)),
            status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END, lease_until = NULL
      WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return r.rowCount ?? 0;
}

export async function deleteLeads(tx: Tx, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await run(tx, 'delete_leads', 'DELETE FROM leads WHERE id = ANY($1::uuid[])', [ids]);
  return r.rowCount ?? 0;
}

/** Active CRM destinations that receive `subject.erased`: how many messages an emit makes. */
export async function erasureDestinations(tx: Tx): Promise<number> {
  const r = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM crm_destinations WHERE status = 'active' AND (events IS NULL OR 'subject.erased' = ANY(events))`,
  );
  return r.rows[0]!.n;
}
