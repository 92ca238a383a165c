// How bookings appear in the admin API, the GDPR export and the console: the one view mapper
// of the bookings capability, shared by every reader.
import type { BookingEventRecord, BookingRecord } from './bookings.columns.js';
import type { BookingConsentRecord } from './bookings.repository.js';

/**
 * How the admin API shows the consent behind a booking. Only a proven link shows one
 * (consent-links.ts): `linkedBy` is `booking_nonce` (the booking's metadata carried the
 * session's nonce) or `native_booking` (our server made it under the session). `observedAt`
 * is when that same session's page reported the booking, a hint, or null.
 */
export function toBookingConsent(c: BookingConsentRecord | null) {
  if (!c) return null;
  return {
    receiptId: c.receiptId,
    sessionId: c.sessionId,
    version: c.version,
    textSha256: c.textSha256,
    purposes: c.purposes,
    pageOrigin: c.pageOrigin,
    givenAt: c.givenAt.toISOString(),
    observedAt: c.observedAt?.toISOString() ?? null,
    linkedBy: c.linkedBy,
  };
}

/**
 * Downstream work after a booking changed (lead scoring, CRM: later issues).
 * Enqueued in the same transaction as the change, payload
 * `{ tenantId, bookingUid, eventId }`. No handler is registered yet, so these
 * jobs wait in the queue until one is.
 */

/** How a booking appears in the admin API. */
export function toBooking(b: BookingRecord) {
  return {
    uid: b.uid,
    calcomId: b.calcomId,
    status: b.status,
    title: b.title,
    startTime: b.startTime?.toISOString() ?? null,
    endTime: b.endTime?.toISOString() ?? null,
    eventTypeId: b.eventTypeId,
    attendees: b.attendees,
    organizer: b.organizer,
    metadata: b.metadata,
    rescheduledFromUid: b.rescheduledFromUid,
    rescheduledToUid: b.rescheduledToUid,
    cancellationReason: b.cancellationReason,
    rejectionReason: b.rejectionReason,
    meetingStartedAt: b.meetingStartedAt?.toISOString() ?? null,
    meetingEndedAt: b.meetingEndedAt?.toISOString() ?? null,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}

export function toBookingEvent(e: BookingEventRecord, current: boolean) {
  return { id: e.id, trigger: e.trigger, occurredAt: e.occurredAt.toISOString(), status: e.status, source: e.source, recordedAt: e.recordedAt.toISOString(), current };
}
