// The bookings projection: Cal.com's deliveries (and reconciliation's findings) applied to our
// booking records, in the caller's tenant transaction.
import type { CalcomWebhook } from '@calbridge/shared';
import type { Tx } from '../db/db.js';
import { enqueue, enqueueMany } from '../jobs/queue.js';
import * as repo from './bookings.repository.js';
import type { Attendee, BookingRecord, BookingStatus, Organizer } from './bookings.columns.js';
import type { BookingFields } from './bookings.repository.js';
import { storable, storableText } from './storable.js';
import { linkConsentByProof } from './consent-links.js';

export const BOOKING_CHANGED_TASK = 'booking.changed';

export type { PrecedingWrites } from './bookings.repository.js';

/**
 * One thing that happened to a booking, in Calbridge's terms. The webhook
 * intake builds these from Cal.com deliveries; reconciliation builds them from
 * bookings read through Cal.com API v2. Both go through {@link applyBookingEvent}.
 */
export interface BookingEvent {
  source: 'webhook' | 'reconciliation';
  /** Cal.com's trigger name, or a name of the source's own (e.g. `RECONCILED`). */
  trigger: string;
  /** When Cal.com says it happened: orders events of one booking. */
  occurredAt: Date;
  /** The inbox row it came from (webhooks only). */
  inboxId: string | null;
  uid: string;
  status: BookingStatus;
  fields: BookingFields;
}

export interface AppliedEvent {
  /** Null when the same event (uid, trigger, time) was recorded before. */
  eventId: string | null;
  /** True when the event became the booking's current state. */
  applied: boolean;
}

/** Events of the same instant are ordered by how final their status is. */
function statusRank(status: BookingStatus): number {
  return status === 'cancelled' || status === 'rejected' ? 3 : status === 'accepted' ? 2 : 1;
}

/** What PostgreSQL cannot store (NUL, lone surrogates) becomes U+FFFD in text we keep. */
const clean = storable;

/**
 * Records the event in the booking's history and, when it is newer than the
 * state already applied, makes it the booking's state; an older event only
 * fills fields still unknown (a late BOOKING_CREATED never revives a
 * cancelled booking). Queues {@link BOOKING_CHANGED_TASK} in the same
 * transaction. Call inside `db.withTenant(tenantId, …)`.
 */
export async function applyBookingEvent(tx: Tx, tenantId: string, event: BookingEvent, now: Date): Promise<AppliedEvent> {
  const done = await repo.recordAndApply(tx, recordInput(tenantId, event, now));
  return afterRecorded(tx, tenantId, event, now, done);
}

function recordInput(tenantId: string, event: BookingEvent, now: Date) {
  return {
    tenantId,
    uid: event.uid,
    trigger: event.trigger,
    source: event.source,
    inboxId: event.inboxId,
    status: event.status,
    occurredAt: event.occurredAt,
    rank: statusRank(event.status),
    now,
    task: BOOKING_CHANGED_TASK,
    ...clean(event.fields),
  };
}

/** What follows an event's statement: the consent link its metadata proves. */
async function afterRecorded(tx: Tx, tenantId: string, event: BookingEvent, now: Date, done: { eventId: string; applied: boolean } | null): Promise<AppliedEvent> {
  // Consent follows proof only (issue 13): the booking's own metadata names its widget session by nonce.
  if (event.fields.metadata) await linkConsentByProof(tx, tenantId, event.uid, event.fields.metadata, now);
  if (!done) return { eventId: null, applied: false };
  return { eventId: done.eventId, applied: done.applied };
}

/** Records a meeting or no-show event in a booking's history and notes it on the booking; status never moves. */
async function applyAnnotation(
  tx: Tx,
  tenantId: string,
  e: { uid: string; trigger: string; occurredAt: Date; inboxId: string | null },
  now: Date,
  note: (tx: Tx) => Promise<boolean>,
): Promise<AppliedEvent> {
  const eventId = await repo.insertEvent(tx, { tenantId, bookingUid: e.uid, trigger: e.trigger, occurredAt: e.occurredAt, rank: 0, source: 'webhook', inboxId: e.inboxId, status: null, recordedAt: now });
  if (!eventId) return { eventId: null, applied: false };
  const applied = await note(tx);
  await enqueue(tx, BOOKING_CHANGED_TASK, { tenantId, bookingUid: e.uid, eventId });
  return { eventId, applied };
}

const lower = (s: string) => s.toLowerCase() as BookingStatus;

/**
 * The booking state a booking trigger stands for, as Cal.com's data implies it
 * rather than as its `status` field says (v2021-10-20/BookingPayloadBuilder.ts
 * hard-codes ACCEPTED for BOOKING_PAYMENT_INITIATED and BOOKING_PAID).
 */
function statusOf(trigger: string, reported: string | null | undefined, requiresConfirmation?: unknown): BookingStatus {
  switch (trigger) {
    case 'BOOKING_CANCELLED':
      return 'cancelled';
    case 'BOOKING_REJECTED':
      return 'rejected';
    case 'BOOKING_REQUESTED':
      return 'pending';
    // The booking exists but waits for its payment (RegularBookingService.ts): pending until BOOKING_PAID.
    case 'BOOKING_PAYMENT_INITIATED':
      return 'pending';
    // Paid: accepted, unless the event type still needs the host's confirmation
    // (handlePaymentSuccess.ts keeps such a booking pending and sends BOOKING_REQUESTED).
    case 'BOOKING_PAID':
      return requiresConfirmation === true ? 'pending' : 'accepted';
    default:
      return reported ? lower(reported) : 'accepted';
  }
}

const EMPTY: BookingFields = {
  calcomId: null, title: null, startTime: null, endTime: null, eventTypeId: null, attendees: null,
  organizer: null, metadata: null, rescheduledFromUid: null, rescheduledToUid: null, cancellationReason: null,
};

/**
 * The booking events a Cal.com booking delivery stands for: the booking it is
 * about, and on a reschedule also the booking it replaces (`rescheduleUid`),
 * which Cal.com cancels and which now points to the new uid.
 */
function eventsFromCalcom(w: Extract<CalcomWebhook, { kind: 'booking' }>, inboxId: string | null): BookingEvent[] {
  const p = w.booking;
  const occurredAt = new Date(w.createdAt);
  const time = (s: string | null | undefined) => (s ? new Date(s) : null);
  const attendees: Attendee[] = p.attendees.map((a) => ({
    name: a.name ?? null,
    email: a.email,
    timeZone: a.timeZone ?? null,
    ...(typeof a.noShow === 'boolean' ? { noShow: a.noShow } : {}),
  }));
  const organizer: Organizer | null = p.organizer
    ? { id: p.organizer.id ?? null, name: p.organizer.name ?? null, email: p.organizer.email ?? null, username: p.organizer.username ?? null, timeZone: p.organizer.timeZone ?? null }
    : null;
  const replaces = p.rescheduleUid && p.rescheduleUid !== p.uid ? p.rescheduleUid : null;
  const events: BookingEvent[] = [
    {
      source: 'webhook',
      trigger: w.trigger,
      occurredAt,
      inboxId,
      uid: p.uid,
      status: statusOf(w.trigger, p.status, (p as Record<string, unknown>).requiresConfirmation),
      fields: {
        calcomId: p.bookingId ?? null,
        title: p.title ?? null,
        startTime: time(p.startTime),
        endTime: time(p.endTime),
        eventTypeId: p.eventTypeId ?? null,
        attendees,
        organizer,
        metadata: p.metadata ?? null,
        rescheduledFromUid: replaces,
        rescheduledToUid: null,
        cancellationReason: w.trigger === 'BOOKING_CANCELLED' ? (p.cancellationReason ?? null) : null,
        // confirm.handler.ts puts a rejection's reason in `rejectionReason`; older builds used cancellationReason.
        rejectionReason: w.trigger === 'BOOKING_REJECTED' ? (p.rejectionReason ?? p.cancellationReason ?? null) : null,
        icalUid: p.iCalUID ?? null,
        icalSequence: p.iCalSequence ?? null,
      },
    },
  ];
  if (replaces && w.trigger === 'BOOKING_RESCHEDULED') {
    events.push({
      source: 'webhook',
      trigger: w.trigger,
      occurredAt,
      inboxId,
      uid: replaces,
      status: 'cancelled',
      fields: {
        ...EMPTY,
        calcomId: p.rescheduleId ?? null,
        title: p.title ?? null,
        startTime: time(p.rescheduleStartTime),
        endTime: time(p.rescheduleEndTime),
        eventTypeId: p.eventTypeId ?? null,
        attendees,
        organizer,
        rescheduledToUid: p.uid,
      },
    });
  }
  return events;
}

/**
 * A delivery that is well formed but cannot be applied yet (e.g. a meeting
 * trigger naming only a Cal.com booking id we have not seen). The intake keeps
 * it as `unprocessed` with this reason; reprocessing tries again.
 */
export class NotApplicableYet extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NotApplicableYet';
  }
}

/** The time a meeting trigger is about: the booking's start or end, not the envelope's createdAt (the booking's creation for the flat scheduled body). */
function meetingTime(w: Extract<CalcomWebhook, { kind: 'meeting' }>): Date | null {
  const at = w.trigger === 'MEETING_STARTED' ? w.startTime : w.trigger === 'MEETING_ENDED' ? w.endTime : null;
  const s = at ?? w.createdAt;
  return s ? new Date(s) : null;
}

/** Cancels the booking a reschedule replaced and links both ways; the new booking inherits the original's metadata keys it lacks. */
async function replaceOriginal(tx: Tx, tenantId: string, w: Extract<CalcomWebhook, { kind: 'booking' }>, original: string, inboxId: string, now: Date): Promise<AppliedEvent> {
  const applied = await applyBookingEvent(tx, tenantId, {
    source: 'webhook',
    trigger: w.trigger,
    occurredAt: new Date(w.createdAt),
    inboxId,
    uid: original,
    status: 'cancelled',
    fields: { ...EMPTY, rescheduledToUid: w.booking.uid },
  }, now);
  await repo.linkRescheduledFrom(tx, w.booking.uid, original, now);
  await repo.inheritMetadata(tx, original, w.booking.uid, now);
  return applied;
}

/**
 * The stored state of one booking, or null. For the calcom capability's reconciliation, which
 * compares it with what Cal.com's API returns (a capability reads another's data through its service).
 * Call inside `db.withTenant(tenantId, …)`.
 */
export async function findBookingState(tx: Tx, uid: string): Promise<BookingRecord | null> {
  return repo.findBooking(tx, uid);
}

/**
 * Reconciliation's heal (issue 11), used by calcom/reconciliation.service.ts. Whatever the order of
 * events, these are facts Cal.com holds now: `metadata` keys are merged into the stored metadata (added
 * or updated, never removed, so our `cb_*`, `calbridge_*` and UTM keys survive deliveries that carried
 * partial metadata), and `noShow` sets attendees' no-show flags by email. When something changed it
 * records a `RECONCILED_HEAL` event and queues {@link BOOKING_CHANGED_TASK}. Returns whether anything
 * changed. Call inside `db.withTenant(tenantId, …)`.
 */
export async function healBooking(
  tx: Tx,
  tenantId: string,
  uid: string,
  heal: { metadata: Record<string, unknown> | null; noShow: Map<string, boolean> },
  now: Date,
): Promise<boolean> {
  let changed = false;
  if (heal.metadata && Object.keys(heal.metadata).length > 0) changed = (await repo.mergeMetadata(tx, uid, clean(heal.metadata), now)) || changed;
  if (heal.noShow.size > 0) changed = (await repo.markNoShow(tx, uid, heal.noShow, now)) || changed;
  if (!changed) return false;
  const eventId = await repo.insertEvent(tx, { tenantId, bookingUid: uid, trigger: 'RECONCILED_HEAL', occurredAt: now, rank: 0, source: 'reconciliation', inboxId: null, status: null, recordedAt: now });
  if (eventId) await enqueue(tx, BOOKING_CHANGED_TASK, { tenantId, bookingUid: uid, eventId });
  return true;
}

/**
 * Applies a verified Cal.com delivery to the tenant's bookings. Returns the
 * booking events it recorded (none for triggers not about one booking).
 * Throws {@link NotApplicableYet} when the delivery names nothing we can apply it to yet.
 */
export async function applyCalcomWebhook(tx: Tx, tenantId: string, w: CalcomWebhook, inboxId: string, now: Date): Promise<AppliedEvent[]> {
  return w.kind === 'booking' ? applyBookingDelivery(tx, tenantId, w, inboxId, now, []) : applyOtherDelivery(tx, tenantId, w, inboxId, now);
}

/**
 * {@link applyCalcomWebhook} after the caller's own writes (`before`, e.g. storing the delivery),
 * which decide whether anything is applied: for a booking delivery they go in the statement of its
 * first event (one round trip for both); otherwise they run alone first. `passed` false: `before`'s
 * gate let nothing through (a duplicate), so nothing was applied. `row`: the columns `before` returns.
 */
export async function applyCalcomWebhookAfter(
  tx: Tx,
  tenantId: string,
  w: CalcomWebhook,
  inboxId: string,
  now: Date,
  before: repo.PrecedingWrites,
  deferred?: DeferredJobs,
): Promise<{ passed: boolean; row: Record<string, unknown>; events: AppliedEvent[] }> {
  if (w.kind === 'booking') {
    const [first, ...rest] = eventsFromCalcom(w, inboxId);
    const input = recordInput(tenantId, first!, now);
    const done = await repo.recordAndApplyAfter(tx, deferred ? { ...input, task: null } : input, before);
    if (!done.passed) return { passed: false, row: done.row, events: [] };
    // The job the statement would have queued for a recorded event, queued by queueDeferredJobs instead.
    if (deferred && done.event) deferred.push({ tenantId, bookingUid: input.uid, eventId: done.event.eventId });
    const applied = await afterRecorded(tx, tenantId, first!, now, done.event);
    return { passed: true, row: done.row, events: await applyBookingDelivery(tx, tenantId, w, inboxId, now, [applied], rest) };
  }
  const done = await repo.precedingWrites(tx, before);
  if (!done.passed) return { passed: false, row: done.row, events: [] };
  return { passed: true, row: done.row, events: await applyOtherDelivery(tx, tenantId, w, inboxId, now) };
}

/**
 * The {@link BOOKING_CHANGED_TASK} jobs of several deliveries' first events, collected by
 * {@link applyCalcomWebhookAfter} and queued together by {@link queueDeferredJobs} in the same
 * transaction (decision 0031): a group commit queues its jobs in one call.
 */
export type DeferredJobs = { tenantId: string; bookingUid: string; eventId: string }[];

/** Queues what {@link applyCalcomWebhookAfter} deferred; call before the transaction commits. */
export async function queueDeferredJobs(tx: Tx, jobs: DeferredJobs): Promise<void> {
  await enqueueMany(tx, BOOKING_CHANGED_TASK, jobs);
}

/** A booking delivery's events (those in `applied` already recorded, `pending` or else all of them still to go), then what follows from them. */
async function applyBookingDelivery(
  tx: Tx,
  tenantId: string,
  w: Extract<CalcomWebhook, { kind: 'booking' }>,
  inboxId: string,
  now: Date,
  applied: AppliedEvent[],
  pending?: BookingEvent[],
): Promise<AppliedEvent[]> {
  const out: AppliedEvent[] = [...applied];
  for (const e of pending ?? eventsFromCalcom(w, inboxId)) out.push(await applyBookingEvent(tx, tenantId, e, now));
  const p = w.booking;
  // A delivery older than the booking's state (e.g. the original's BOOKING_CREATED after its
  // reschedule): the booking that replaced it may lack the keys this one just added.
  if (out[0] && out[0].eventId && !out[0].applied) await repo.passMetadataForward(tx, p.uid, now);
  const named = p.rescheduleUid && p.rescheduleUid !== p.uid ? p.rescheduleUid : null;
  if (named && w.trigger === 'BOOKING_RESCHEDULED') {
    await repo.inheritMetadata(tx, named, p.uid, now);
  } else if (w.trigger === 'BOOKING_REQUESTED') {
    // A reschedule that needs the host's confirmation: Cal.com cancels the original at once
    // (handleNewBooking/createBooking.ts) and sends BOOKING_REQUESTED for the new uid without
    // `rescheduleUid` (v2021-10-20/BookingPayloadBuilder.ts) and nothing for the original.
    // The payload still names it: the new booking keeps the original's iCalUID with a higher
    // iCalSequence. Without those (or with the original unknown), reconciliation heals it.
    const original = named ?? (p.iCalUID && p.iCalSequence ? await repo.findRescheduledOriginal(tx, storableText(p.iCalUID), p.uid, p.iCalSequence) : null);
    if (original) out.push(await replaceOriginal(tx, tenantId, w, original, inboxId, now));
  }
  return out;
}

/** A delivery that is not about a booking's state: a no-show or meeting annotation, or nothing to apply. */
async function applyOtherDelivery(tx: Tx, tenantId: string, w: Exclude<CalcomWebhook, { kind: 'booking' }>, inboxId: string, now: Date): Promise<AppliedEvent[]> {
  switch (w.kind) {
    case 'no_show': {
      const occurredAt = new Date(w.createdAt);
      const flags = new Map(w.noShow.attendees.map((a) => [a.email.toLowerCase(), a.noShow]));
      const uid = w.noShow.bookingUid;
      return [await applyAnnotation(tx, tenantId, { uid, trigger: w.trigger, occurredAt, inboxId }, now, (t) => repo.markNoShow(t, uid, flags, now))];
    }
    case 'meeting': {
      const uid = w.bookingUid ?? (w.calcomId !== null ? await repo.uidOfCalcomId(tx, w.calcomId) : null);
      if (!uid) throw new NotApplicableYet(w.calcomId !== null ? 'booking_unknown: no booking with this Cal.com id yet' : 'booking_unknown: the delivery names no booking');
      const occurredAt = meetingTime(w);
      if (!occurredAt) throw new NotApplicableYet('no_event_time: neither the meeting time nor createdAt is readable');
      const column = w.trigger === 'MEETING_STARTED' ? 'meeting_started_at' : w.trigger === 'MEETING_ENDED' ? 'meeting_ended_at' : null;
      return [
        await applyAnnotation(tx, tenantId, { uid, trigger: w.trigger, occurredAt, inboxId }, now, (t) =>
          column ? repo.markMeeting(t, uid, column, occurredAt, now) : Promise.resolve(false),
        ),
      ];
    }
    default:
      return [];
  }
}
