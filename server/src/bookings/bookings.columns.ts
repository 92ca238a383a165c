// A booking as every capability reads it: the row types and their one column list, shared by the
// bookings repository, the GDPR export and leads (which read bookings in their own transactions).
// Not a repository: no SQL runs here, so another capability may import it (as leads/leads.columns.ts).
// How a booking is shown is bookings.views.ts, equally shared.

/** A booking's status as Cal.com names it in API v2, lower case. */
export type BookingStatus = 'accepted' | 'pending' | 'cancelled' | 'rejected' | 'awaiting_host';

export interface Attendee {
  name: string | null;
  email: string;
  timeZone: string | null;
  noShow?: boolean;
}

export interface Organizer {
  id: number | null;
  name: string | null;
  email: string | null;
  username: string | null;
  timeZone: string | null;
}

/** One row of `bookings`: the current state of a booking. */
export interface BookingRecord {
  uid: string;
  calcomId: number | null;
  status: BookingStatus;
  title: string | null;
  startTime: Date | null;
  endTime: Date | null;
  eventTypeId: number | null;
  attendees: Attendee[];
  organizer: Organizer | null;
  metadata: Record<string, unknown> | null;
  rescheduledFromUid: string | null;
  rescheduledToUid: string | null;
  cancellationReason: string | null;
  /** BOOKING_REJECTED's `rejectionReason`. */
  rejectionReason: string | null;
  meetingStartedAt: Date | null;
  meetingEndedAt: Date | null;
  stateEventId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface BookingEventRecord {
  id: string;
  trigger: string;
  occurredAt: Date;
  status: BookingStatus | null;
  source: 'webhook' | 'reconciliation';
  recordedAt: Date;
}

/**
 * The column behind every field of a {@link BookingRecord}. `satisfies` makes the compiler refuse
 * a field without a column (or a column without a field), so no reader can drift from the record.
 */
const BOOKING_COLUMN_OF = {
  uid: 'uid',
  calcomId: 'calcom_id',
  status: 'status',
  title: 'title',
  startTime: 'start_time',
  endTime: 'end_time',
  eventTypeId: 'event_type_id',
  attendees: 'attendees',
  organizer: 'organizer',
  metadata: 'metadata',
  rescheduledFromUid: 'rescheduled_from_uid',
  rescheduledToUid: 'rescheduled_to_uid',
  cancellationReason: 'cancellation_reason',
  rejectionReason: 'rejection_reason',
  meetingStartedAt: 'meeting_started_at',
  meetingEndedAt: 'meeting_ended_at',
  stateEventId: 'state_event_id',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} as const satisfies Record<keyof BookingRecord, string>;

/** The select list of a {@link BookingRecord}; `alias` qualifies each column for a join (`bookingColumns('b')`). */
export function bookingColumns(alias?: string): string {
  const q = alias ? `${alias}.` : '';
  return Object.entries(BOOKING_COLUMN_OF)
    .map(([field, column]) => `${q}${column} AS "${field}"`)
    .join(', ');
}

/** `bookingColumns()` of `FROM bookings`. */
export const BOOKING_COLUMNS = bookingColumns();

/** The select list of a {@link BookingEventRecord} (`FROM booking_events`). */
export const BOOKING_EVENT_COLUMNS = 'id, trigger_event AS trigger, occurred_at AS "occurredAt", status, source, recorded_at AS "recordedAt"';
