import { statementName, type Tx } from '../db/db.js';
import { BOOKING_COLUMNS, BOOKING_EVENT_COLUMNS, type Attendee, type BookingEventRecord, type BookingRecord, type BookingStatus, type Organizer } from './bookings.columns.js';


/** Records an event in a booking's history; null when the same event (uid, trigger, time) is already there. */
export async function insertEvent(
  tx: Tx,
  e: { tenantId: string; bookingUid: string; trigger: string; occurredAt: Date; rank: number; source: string; inboxId: string | null; status: string | null; recordedAt: Date },
): Promise<string | null> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO booking_events (tenant_id, booking_uid, trigger_event, occurred_at, rank, source, inbox_id, status, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT ON CONSTRAINT booking_events_identity DO NOTHING
     RETURNING id`,
    [e.tenantId, e.bookingUid, e.trigger, e.occurredAt, e.rank, e.source, e.inboxId, e.status, e.recordedAt],
  );
  return r.rows[0]?.id ?? null;
}

/** Fields an event may carry; null means "not carried", never "erase". */
export interface BookingFields {
  calcomId: number | null;
  title: string | null;
  startTime: Date | null;
  endTime: Date | null;
  eventTypeId: number | null;
  attendees: Attendee[] | null;
  organizer: Organizer | null;
  metadata: Record<string, unknown> | null;
  rescheduledFromUid: string | null;
  rescheduledToUid: string | null;
  cancellationReason: string | null;
  /** BOOKING_REJECTED's reason (webhooks only; absent means not carried). */
  rejectionReason?: string | null;
  /** Cal.com's calendar identity, kept across reschedules (webhooks only). */
  icalUid?: string | null;
  icalSequence?: number | null;
}

// Columns an event fills: a newer event overwrites what it carries, an older
// one only fills what is still unknown. Status and the state marker move only
// forward. Empty arrays count as unknown.
const FILLABLE = [
  ['calcom_id', 'b.calcom_id', 'EXCLUDED.calcom_id'],
  ['title', 'b.title', 'EXCLUDED.title'],
  ['start_time', 'b.start_time', 'EXCLUDED.start_time'],
  ['end_time', 'b.end_time', 'EXCLUDED.end_time'],
  ['event_type_id', 'b.event_type_id', 'EXCLUDED.event_type_id'],
  ['organizer', 'b.organizer', 'EXCLUDED.organizer'],
  ['rescheduled_from_uid', 'b.rescheduled_from_uid', 'EXCLUDED.rescheduled_from_uid'],
  ['rescheduled_to_uid', 'b.rescheduled_to_uid', 'EXCLUDED.rescheduled_to_uid'],
  ['cancellation_reason', 'b.cancellation_reason', 'EXCLUDED.cancellation_reason'],
  ['rejection_reason', 'b.rejection_reason', 'EXCLUDED.rejection_reason'],
  ['ical_uid', 'b.ical_uid', 'EXCLUDED.ical_uid'],
  ['ical_sequence', 'b.ical_sequence', 'EXCLUDED.ical_sequence'],
] as const;
const NEWER = '(EXCLUDED.state_at, EXCLUDED.state_rank) > (b.state_at, b.state_rank)';
const fill = (col: string, old: string, neu: string, empty?: string) => {
  const o = empty ? `nullif(${old}, ${empty})` : old;
  const n = empty ? `nullif(${neu}, ${empty})` : neu;
  return `${col} = CASE WHEN ${NEWER} THEN coalesce(${n}, ${old}) ELSE coalesce(${o}, ${neu}) END`;
};
// Metadata merges key by key, never replaced: Cal.com's confirmation, payment and
// reschedule deliveries carry partial metadata (`{}`, `{ videoCallUrl }`,
// payment data; handleConfirmation.ts, handlePaymentSuccess.ts,
// RegularBookingService.ts), and the keys the widget set (cb_*, calbridge_*, UTM)
// must survive them. A newer event's keys win; an older one only adds keys.
const MERGE_METADATA = `metadata = CASE WHEN b.metadata IS NULL THEN EXCLUDED.metadata WHEN EXCLUDED.metadata IS NULL THEN b.metadata
        WHEN ${NEWER} THEN b.metadata || EXCLUDED.metadata ELSE EXCLUDED.metadata || b.metadata END`;
const RECORD_AND_APPLY_FROM_EV = `
  up AS (
    INSERT INTO bookings AS b (tenant_id, uid, calcom_id, status, title, start_time, end_time, event_type_id, attendees,
      attendee_emails, organizer, metadata, rescheduled_from_uid, rescheduled_to_uid, cancellation_reason,
      rejection_reason, ical_uid, ical_sequence, state_at, state_rank, state_event_id, created_at, updated_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::jsonb, '[]'), coalesce($10::text[], '{}'), $11, $12, $13, $14, $15,
      $23, $24, $25, $16, $17, ev.id, $18, $18
      FROM ev
    ON CONFLICT (tenant_id, uid) DO UPDATE SET
      status = CASE WHEN ${NEWER} THEN EXCLUDED.status ELSE b.status END,
      ${FILLABLE.map(([c, o, n]) => fill(c, o, n)).join(',\n      ')},
      ${MERGE_METADATA},
      ${fill('attendees', 'b.attendees', 'EXCLUDED.attendees', "'[]'::jsonb")},
      ${fill('attendee_emails', 'b.attendee_emails', 'EXCLUDED.attendee_emails', "'{}'::text[]")},
      state_event_id = CASE WHEN ${NEWER} THEN EXCLUDED.state_event_id ELSE b.state_event_id END,
      state_rank = CASE WHEN ${NEWER} THEN EXCLUDED.state_rank ELSE b.state_rank END,
      state_at = CASE WHEN ${NEWER} THEN EXCLUDED.state_at ELSE b.state_at END,
      updated_at = EXCLUDED.updated_at
    RETURNING state_event_id
  ), job AS (
    SELECT calbridge_enqueue($22, json_build_object('tenantId', $1::text, 'bookingUid', $2::text, 'eventId', ev.id::text)) FROM ev WHERE $22::text IS NOT NULL
  )`;
const EVENT_COLUMNS = '$1, $2, $19, $16, $17, $20, $21, $4, $18';
const INSERT_EVENT = 'INSERT INTO booking_events (tenant_id, booking_uid, trigger_event, occurred_at, rank, source, inbox_id, status, recorded_at)';
const RECORD_AND_APPLY = `
  WITH ev AS (
    ${INSERT_EVENT}
    VALUES (${EVENT_COLUMNS})
    ON CONFLICT ON CONSTRAINT booking_events_identity DO NOTHING
    RETURNING id
  ), ${RECORD_AND_APPLY_FROM_EV}
  SELECT ev.id AS "eventId", coalesce(up.state_event_id = ev.id, false) AS applied, (SELECT count(*) FROM job) AS queued
    FROM ev LEFT JOIN up ON true`;

/**
 * Writes of the caller's that go first in the statement that records a booking event
 * ({@link recordAndApplyAfter}): `ctes` (common table expressions using `$1`…`$n` of `values`),
 * the name of the one whose row lets the event go ahead (`gate`; no row: nothing is recorded
 * or applied), and `returns`, the columns it adds to the answer. `name` names the statement
 * prepared from the composition.
 */
export interface PrecedingWrites {
  name: string;
  ctes: string;
  gate: string;
  values: unknown[];
  returns: string;
}

/** RECORD_AND_APPLY after `before`'s CTEs, gated by its gate, its parameters numbered after `before`'s. */
function recordAndApplyAfterSql(before: PrecedingWrites): string {
  const shift = (sql: string) => sql.replace(/\$([0-9]+)/g, (_, n: string) => `$${Number(n) + before.values.length}`);
  return `
  WITH ${before.ctes}, ev AS (
    ${INSERT_EVENT}
    SELECT ${shift(EVENT_COLUMNS)} FROM ${before.gate}
    ON CONFLICT ON CONSTRAINT booking_events_identity DO NOTHING
    RETURNING id
  ), ${shift(RECORD_AND_APPLY_FROM_EV)}
  SELECT EXISTS (SELECT 1 FROM ${before.gate}) AS passed, ev.id AS "eventId", coalesce(up.state_event_id = ev.id, false) AS applied,
         (SELECT count(*) FROM job) AS queued, ${before.returns}
    FROM (SELECT 1) AS one LEFT JOIN ev ON true LEFT JOIN up ON true`;
}
const afterSql = new Map<string, string>();

/**
 * Records the event in the booking's history, applies its state to the
 * booking and queues `task` for it (payload `{ tenantId, bookingUid, eventId }`),
 * in one statement (the upsert row-locks the booking, so concurrent events of
 * one booking serialise). Returns null when the same event (uid, trigger,
 * time) was recorded before, and then queues nothing; otherwise its id and
 * whether it became the booking's state.
 */
export async function recordAndApply(tx: Tx, b: RecordInput): Promise<{ eventId: string; applied: boolean } | null> {
  const r = await tx.query<{ eventId: string; applied: boolean }>({ name: statementName(tx, 'record_and_apply'), text: RECORD_AND_APPLY, values: recordValues(b) });
  return r.rows[0] ?? null;
}

type RecordInput = {
  tenantId: string; uid: string; trigger: string; source: string; inboxId: string | null;
  status: BookingStatus; occurredAt: Date; rank: number; now: Date;
  /** The job queued for a recorded event; null: the caller queues it (bookings.projection.ts, DeferredJobs). */
  task: string | null;
} & BookingFields;

function recordValues(b: RecordInput): unknown[] {
  return [
    b.tenantId, b.uid, b.calcomId, b.status, b.title, b.startTime, b.endTime, b.eventTypeId,
    b.attendees ? JSON.stringify(b.attendees) : null,
    b.attendees ? [...new Set(b.attendees.map((a) => a.email.toLowerCase()))] : null,
    b.organizer ? JSON.stringify(b.organizer) : null,
    b.metadata ? JSON.stringify(b.metadata) : null,
    b.rescheduledFromUid, b.rescheduledToUid, b.cancellationReason, b.occurredAt, b.rank, b.now,
    b.trigger, b.source, b.inboxId, b.task,
    b.rejectionReason ?? null, b.icalUid ?? null, b.icalSequence ?? null,
  ];
}

/**
 * {@link recordAndApply} with the caller's writes (`before`) first, in the same statement: one
 * round trip for both. `passed` is false when `before`'s gate let nothing through; then nothing
 * was recorded, applied or queued. `row` carries the columns `before.returns` names.
 */
export async function recordAndApplyAfter(
  tx: Tx,
  b: RecordInput,
  before: PrecedingWrites,
): Promise<{ passed: boolean; event: { eventId: string; applied: boolean } | null; row: Record<string, unknown> }> {
  let text = afterSql.get(before.name);
  if (text === undefined) afterSql.set(before.name, (text = recordAndApplyAfterSql(before)));
  const r = await tx.query<{ passed: boolean; eventId: string | null; applied: boolean } & Record<string, unknown>>({
    name: statementName(tx, `${before.name}_record_and_apply`),
    text,
    values: [...before.values, ...recordValues(b)],
  });
  const row = r.rows[0]!;
  return { passed: row.passed, event: row.eventId ? { eventId: row.eventId, applied: row.applied } : null, row };
}

/** `before`'s writes alone, for events recorded by other statements ({@link recordAndApplyAfter}'s `passed` and `row`). */
export async function precedingWrites(tx: Tx, before: PrecedingWrites): Promise<{ passed: boolean; row: Record<string, unknown> }> {
  const r = await tx.query<{ passed: boolean } & Record<string, unknown>>({
    name: statementName(tx, before.name),
    text: `WITH ${before.ctes} SELECT EXISTS (SELECT 1 FROM ${before.gate}) AS passed, ${before.returns}`,
    values: before.values,
  });
  const row = r.rows[0]!;
  return { passed: row.passed, row };
}

/** Notes a meeting's start or end on a known booking; false when the booking is not known yet. */
export async function markMeeting(tx: Tx, uid: string, column: 'meeting_started_at' | 'meeting_ended_at', at: Date, now: Date): Promise<boolean> {
  const r = await tx.query(`UPDATE bookings SET ${column} = greatest(${column}, $2), updated_at = $3 WHERE uid = $1`, [uid, at, now]);
  return (r.rowCount ?? 0) > 0;
}

/** Sets attendees' no-show flags by email on a known booking; false when the booking is not known yet. */
export async function markNoShow(tx: Tx, uid: string, flags: Map<string, boolean>, now: Date): Promise<boolean> {
  const r = await tx.query<{ attendees: Attendee[] }>('SELECT attendees FROM bookings WHERE uid = $1 FOR UPDATE', [uid]);
  const row = r.rows[0];
  if (!row) return false;
  const attendees = row.attendees.map((a) => {
    const flag = flags.get(a.email.toLowerCase());
    return flag === undefined ? a : { ...a, noShow: flag };
  });
  await tx.query('UPDATE bookings SET attendees = $2, updated_at = $3 WHERE uid = $1', [uid, JSON.stringify(attendees), now]);
  return true;
}

/** The uid of the booking Cal.com numbers `calcomId`, if it is known. */
export async function uidOfCalcomId(tx: Tx, calcomId: number): Promise<string | null> {
  const r = await tx.query<{ uid: string }>('SELECT uid FROM bookings WHERE calcom_id = $1 ORDER BY created_at LIMIT 1', [calcomId]);
  return r.rows[0]?.uid ?? null;
}

/**
 * The live booking a reschedule replaces, found by Cal.com's calendar identity:
 * a reschedule keeps the original's `iCalUID` and raises its `iCalSequence`
 * (getICalSequence.ts), so the original is the one with the same iCalUID, a
 * lower sequence and another uid.
 */
export async function findRescheduledOriginal(tx: Tx, icalUid: string, uid: string, sequence: number): Promise<string | null> {
  const r = await tx.query<{ uid: string }>(
    `SELECT uid FROM bookings
      WHERE ical_uid = $1 AND uid <> $2 AND coalesce(ical_sequence, 0) < $3 AND status NOT IN ('cancelled', 'rejected')
      ORDER BY ical_sequence DESC NULLS LAST, start_time DESC NULLS LAST LIMIT 1`,
    [icalUid, uid, sequence],
  );
  return r.rows[0]?.uid ?? null;
}

/**
 * Gives the booking `toUid` the metadata keys of `fromUid` it lacks: Cal.com's
 * reschedule link does not carry the original's metadata, yet the new booking
 * is the same lead (createBooking.ts copies the original's metadata in Cal.com).
 */
export async function inheritMetadata(tx: Tx, fromUid: string, toUid: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE bookings n SET metadata = o.metadata || coalesce(n.metadata, '{}'::jsonb), updated_at = $3
       FROM bookings o
      WHERE n.uid = $2 AND o.uid = $1 AND o.tenant_id = n.tenant_id AND o.metadata IS NOT NULL
        AND (o.metadata || coalesce(n.metadata, '{}'::jsonb)) IS DISTINCT FROM n.metadata`,
    [fromUid, toUid, now],
  );
}

/**
 * {@link inheritMetadata} from a booking to the one that replaced it, for an
 * original whose own delivery arrived after its reschedule's.
 */
export async function passMetadataForward(tx: Tx, uid: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE bookings n SET metadata = o.metadata || coalesce(n.metadata, '{}'::jsonb), updated_at = $2
       FROM bookings o
      WHERE o.uid = $1 AND n.uid = o.rescheduled_to_uid AND n.tenant_id = o.tenant_id AND o.metadata IS NOT NULL
        AND (o.metadata || coalesce(n.metadata, '{}'::jsonb)) IS DISTINCT FROM n.metadata`,
    [uid, now],
  );
}

/** Points a booking at the booking it replaces, when not known yet. */
export async function linkRescheduledFrom(tx: Tx, uid: string, fromUid: string, now: Date): Promise<void> {
  await tx.query('UPDATE bookings SET rescheduled_from_uid = $2, updated_at = $3 WHERE uid = $1 AND rescheduled_from_uid IS NULL', [uid, fromUid, now]);
}

export async function findBooking(tx: Tx, uid: string): Promise<BookingRecord | null> {
  const r = await tx.query<BookingRecord>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE uid = $1`, [uid]);
  return r.rows[0] ?? null;
}

/** The consent receipt a booking is linked to, and how the link was made. */
export interface BookingConsentRecord {
  receiptId: string;
  sessionId: string;
  version: string;
  textSha256: string;
  purposes: string[];
  pageOrigin: string;
  givenAt: Date;
  linkedBy: 'booking_nonce' | 'native_booking';
  /** When the same session's page reported the booking (a hint), or null. */
  observedAt: Date | null;
}

/** The consent receipt a proven link (booking_consent_links) ties the booking to, if any. */
export async function findBookingConsent(tx: Tx, uid: string): Promise<BookingConsentRecord | null> {
  const r = await tx.query<BookingConsentRecord>(
    `SELECT c.id AS "receiptId", c.session_id AS "sessionId", c.consent_version AS version,
            c.consent_text_sha256 AS "textSha256", c.purposes, c.page_origin AS "pageOrigin",
            c.created_at AS "givenAt", l.linked_by AS "linkedBy", o.observed_at AS "observedAt"
       FROM booking_consent_links l
       JOIN consent_receipts c ON c.id = l.consent_receipt_id
       LEFT JOIN observed_bookings o ON o.uid = l.booking_uid AND o.session_id = l.session_id
      WHERE l.booking_uid = $1`,
    [uid],
  );
  return r.rows[0] ?? null;
}

export async function listEvents(tx: Tx, uid: string): Promise<BookingEventRecord[]> {
  const r = await tx.query<BookingEventRecord>(
    `SELECT ${BOOKING_EVENT_COLUMNS} FROM booking_events WHERE booking_uid = $1 ORDER BY occurred_at, rank, recorded_at`,
    [uid],
  );
  return r.rows;
}

export interface BookingFilter {
  status: BookingStatus | null;
  from: Date | null;
  to: Date | null;
  email: string | null;
  /** Exclusive position: (start time or null for "unknown", uid). */
  after: { startTime: Date | null; uid: string } | null;
  limit: number;
}

/**
 * Bookings by start time (unknown first), then uid; only the transaction's tenant. Each condition
 * is one PostgreSQL may use as an index condition under row-level security, where only leakproof
 * operators on plain columns qualify (migration 0018, decision 0029): `status = …`, `start_time >= …`,
 * the keyset position as a row comparison on (start_time, uid), in the order of bookings_by_start_time
 * and bookings_by_status; the email through booking_emails, as `attendee_emails @> …` is not leakproof.
 * So a page reads its own rows however many bookings the tenant has. `start_time NULLS FIRST` is the
 * order `coalesce(start_time, '-infinity')` gave before, without an expression the index cannot use.
 * Only the conditions asked for are in the statement: an unused one written as `$n IS NULL OR …`
 * would keep the email's semi-join from being planned as one.
 */
export async function listBookings(tx: Tx, f: BookingFilter): Promise<BookingRecord[]> {
  const values: unknown[] = [];
  const param = (v: unknown, type: string) => {
    values.push(v);
    return `$${values.length}::${type}`;
  };
  const where: string[] = [];
  if (f.status !== null) where.push(`status = ${param(f.status, 'text')}`);
  if (f.from !== null) where.push(`start_time >= ${param(f.from, 'timestamptz')}`);
  if (f.to !== null) where.push(`start_time < ${param(f.to, 'timestamptz')}`);
  if (f.email !== null) where.push(`uid IN (SELECT booking_uid FROM booking_emails WHERE email = ${param(f.email, 'text')})`);
  if (f.after !== null) {
    // After a known start: later starts, or the same start and a later uid (unknown starts came before).
    // After an unknown start: the remaining unknown ones by uid, then every known start.
    where.push(
      f.after.startTime === null
        ? `(start_time IS NOT NULL OR uid > ${param(f.after.uid, 'text')})`
        : `(start_time, uid) > (${param(f.after.startTime, 'timestamptz')}, ${param(f.after.uid, 'text')})`,
    );
  }
  const r = await tx.query<BookingRecord>(
    `SELECT ${BOOKING_COLUMNS} FROM bookings
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY start_time NULLS FIRST, uid
      LIMIT ${param(f.limit, 'int')}`,
    values,
  );
  return r.rows;
}

/**
 * Adds or updates metadata keys on a known booking and removes none (reconciliation's heal, issue 11:
 * partial deliveries must not lose `cb_*`, `calbridge_*` or UTM keys). False when the booking is not
 * known or already holds every key with that value.
 */
export async function mergeMetadata(tx: Tx, uid: string, patch: Record<string, unknown>, now: Date): Promise<boolean> {
  const r = await tx.query(
    `UPDATE bookings SET metadata = coalesce(metadata, '{}'::jsonb) || $2::jsonb, updated_at = $3
      WHERE uid = $1 AND NOT coalesce(metadata, '{}'::jsonb) @> $2::jsonb`,
    [uid, JSON.stringify(patch), now],
  );
  return (r.rowCount ?? 0) > 0;
}
