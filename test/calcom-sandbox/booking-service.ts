import { ApiError } from './http.js';
import { newBookingUid } from './ids.js';
import { bookingWebhookPayload } from './payloads.js';
import type { SandboxStore } from './store.js';
import { minutesOfDay, zonedParts, zonedWallTimeToUtc } from './time.js';
import type { SandboxAttendee, SandboxBooking, SandboxEventType, SandboxUser } from './types.js';
import type { WebhookDispatcher } from './webhooks.js';

/** What a booking needs, whichever door it came through (API v2 or the booking page). */
export interface NewBookingInput {
  eventType: SandboxEventType;
  start: Date;
  attendee: { name: string; email: string; timeZone: string; language?: string; phoneNumber?: string };
  guests?: string[];
  metadata?: Record<string, unknown>;
  bookingFieldsResponses?: Record<string, unknown>;
  lengthInMinutes?: number;
  notes?: string;
  tracking?: Record<string, string>;
  rescheduledFromUid?: string;
}

/**
 * Booking rules shared by API v2 and the booking page, so that both run the
 * same checks and emit the same webhooks.
 */
export class BookingService {
  constructor(
    private readonly store: SandboxStore,
    private readonly webhooks: WebhookDispatcher,
    private readonly clock: () => Date,
    private readonly appUrl: () => string,
  ) {}

  owner(eventType: SandboxEventType): SandboxUser {
    const user = this.store.users.get(eventType.ownerId);
    if (!user) throw new ApiError(404, `Event type owner ${eventType.ownerId} not found`);
    return user;
  }

  /**
   * Free slot starts of `eventType` within [from, to]: its weekly hours in the
   * owner's zone, every interval (default: length), not before now + minimum
   * notice, minus anything overlapping the owner's accepted/pending bookings.
   */
  freeSlots(eventType: SandboxEventType, from: Date, to: Date, opts: { excludeUid?: string; duration?: number } = {}): Date[] {
    const owner = this.owner(eventType);
    const tz = owner.timeZone;
    const length = opts.duration ?? eventType.lengthInMinutes;
    const step = eventType.slotIntervalMinutes ?? length;
    const earliest = this.clock().getTime() + eventType.minimumBookingNoticeMinutes * 60_000;
    const busy = this.store
      .bookingsOf(owner.id)
      .filter((b) => (b.status === 'accepted' || b.status === 'pending') && b.uid !== opts.excludeUid)
      .map((b) => [Date.parse(b.start), Date.parse(b.end)] as const);
    const dayStart = minutesOfDay(eventType.availability.startTime);
    const dayEnd = minutesOfDay(eventType.availability.endTime);
    const out: Date[] = [];
    // Walk calendar days in the owner's zone, starting a day early so that
    // zones ahead of UTC do not lose the first day.
    const first = zonedParts(new Date(from.getTime() - 24 * 3600_000), tz);
    const cursor = new Date(Date.UTC(first.year, first.month - 1, first.day));
    const stop = to.getTime() + 24 * 3600_000;
    for (; cursor.getTime() <= stop; cursor.setUTCDate(cursor.getUTCDate() + 1)) {
      const y = cursor.getUTCFullYear();
      const m = cursor.getUTCMonth() + 1;
      const d = cursor.getUTCDate();
      if (!eventType.availability.days.includes(cursor.getUTCDay())) continue;
      for (let t = dayStart; t + length <= dayEnd; t += step) {
        const start = zonedWallTimeToUtc(y, m, d, Math.floor(t / 60), t % 60, tz);
        const s = start.getTime();
        const e = s + length * 60_000;
        if (s < from.getTime() || s > to.getTime() || s < earliest) continue;
        if (busy.some(([bs, be]) => s < be && e > bs)) continue;
        out.push(start);
      }
    }
    return out;
  }

  isFree(eventType: SandboxEventType, start: Date, opts: { excludeUid?: string; duration?: number } = {}): boolean {
    return this.freeSlots(eventType, start, start, opts).some((s) => s.getTime() === start.getTime());
  }

  create(input: NewBookingInput): SandboxBooking {
    const { eventType } = input;
    const owner = this.owner(eventType);
    const length = input.lengthInMinutes ?? eventType.lengthInMinutes;
    if (length !== eventType.lengthInMinutes) {
      throw new ApiError(400, `lengthInMinutes ${length} is not an allowed length of event type ${eventType.id}`);
    }
    if (Number.isNaN(input.start.getTime())) throw new ApiError(400, 'start must be an ISO 8601 date string');
    if (!this.isFree(eventType, input.start, { duration: length })) {
      // Cal.com's handleNewBooking rejects an unavailable time with this message.
      throw new ApiError(400, 'User either already has booking at this time or is not available');
    }
    const now = this.clock().toISOString();
    const uid = newBookingUid();
    const attendee: SandboxAttendee = {
      name: input.attendee.name,
      email: input.attendee.email,
      timeZone: input.attendee.timeZone,
      language: input.attendee.language ?? 'en',
      ...(input.attendee.phoneNumber ? { phoneNumber: input.attendee.phoneNumber } : {}),
      absent: false,
    };
    const guests = input.guests ?? [];
    const booking: SandboxBooking = {
      id: this.store.nextId('booking'),
      uid,
      eventTypeId: eventType.id,
      userId: owner.id,
      // Cal.com's default event name: "{Event type title} between {Organizer} and {Attendee}".
      title: `${eventType.title} between ${owner.name} and ${attendee.name}`,
      description: input.notes ?? '',
      status: eventType.requiresConfirmation ? 'pending' : 'accepted',
      start: input.start.toISOString(),
      end: new Date(input.start.getTime() + length * 60_000).toISOString(),
      attendees: [attendee],
      guests,
      metadata: sanitizeMetadata(input.metadata ?? {}),
      bookingFieldsResponses: {
        name: attendee.name,
        email: attendee.email,
        guests,
        ...(input.notes ? { notes: input.notes } : {}),
        ...(input.bookingFieldsResponses ?? {}),
      },
      // The seeded event types use Cal Video; its meeting URL is on the app origin.
      location: `${this.appUrl()}/video/${uid}`,
      absentHost: false,
      createdAt: now,
      updatedAt: now,
      icsUid: `${uid}@sandbox.cal.local`,
      ...(input.tracking && Object.keys(input.tracking).length ? { tracking: input.tracking } : {}),
      ...(input.rescheduledFromUid ? { rescheduledFromUid: input.rescheduledFromUid } : {}),
    };
    this.store.bookings.set(uid, booking);
    if (!input.rescheduledFromUid) {
      const trigger = booking.status === 'pending' ? 'BOOKING_REQUESTED' : 'BOOKING_CREATED';
      this.emit(trigger, booking);
    }
    return booking;
  }

  get(uid: string): SandboxBooking {
    const booking = this.store.bookings.get(uid);
    if (!booking) throw new ApiError(404, `Booking with uid=${uid} was not found in the database`);
    return booking;
  }

  cancel(uid: string, reason: string | undefined, cancelledByEmail?: string): SandboxBooking {
    const booking = this.get(uid);
    if (booking.status === 'cancelled' || booking.status === 'rejected') {
      throw new ApiError(400, 'This booking has already been cancelled.');
    }
    booking.status = 'cancelled';
    if (reason !== undefined) booking.cancellationReason = reason;
    if (cancelledByEmail) booking.cancelledByEmail = cancelledByEmail;
    booking.updatedAt = this.clock().toISOString();
    this.emit('BOOKING_CANCELLED', booking, {
      cancellationReason: reason ?? null,
      ...(cancelledByEmail ? { cancelledBy: cancelledByEmail } : {}),
    });
    return booking;
  }

  /**
   * Cal.com's reschedule creates a new booking (with `fromReschedule`) and
   * cancels the old one marking it `rescheduled`; BOOKING_RESCHEDULED carries
   * the new booking with `rescheduleUid`/`rescheduleId` of the old one.
   */
  reschedule(uid: string, start: Date, opts: { reason?: string; rescheduledBy?: string } = {}): SandboxBooking {
    const old = this.get(uid);
    if (old.status === 'cancelled' || old.status === 'rejected') {
      throw new ApiError(400, `Can't reschedule booking with uid=${uid} because it has been cancelled or rejected.`);
    }
    const eventType = this.store.eventTypes.get(old.eventTypeId);
    if (!eventType) throw new ApiError(404, `Event type ${old.eventTypeId} not found`);
    if (!this.isFree(eventType, start, { excludeUid: old.uid })) {
      throw new ApiError(400, 'User either already has booking at this time or is not available');
    }
    // Free the old slot first so the new one may overlap it.
    const previousStatus = old.status;
    old.status = 'cancelled';
    let fresh: SandboxBooking;
    try {
      const attendee = old.attendees[0];
      if (!attendee) throw new ApiError(400, 'Booking has no attendee');
      fresh = this.create({
        eventType,
        start,
        attendee,
        guests: old.guests,
        metadata: old.metadata,
        bookingFieldsResponses: old.bookingFieldsResponses,
        rescheduledFromUid: old.uid,
      });
    } catch (err) {
      old.status = previousStatus;
      throw err;
    }
    old.rescheduled = true;
    old.rescheduledToUid = fresh.uid;
    if (opts.reason) {
      old.reschedulingReason = opts.reason;
      fresh.reschedulingReason = opts.reason;
    }
    if (opts.rescheduledBy) {
      old.rescheduledByEmail = opts.rescheduledBy;
      fresh.rescheduledByEmail = opts.rescheduledBy;
    }
    old.updatedAt = this.clock().toISOString();
    this.emit('BOOKING_RESCHEDULED', fresh, {
      rescheduleId: old.id,
      rescheduleUid: old.uid,
      rescheduleStartTime: old.start,
      rescheduleEndTime: old.end,
      ...(opts.rescheduledBy ? { rescheduledBy: opts.rescheduledBy } : {}),
    });
    return fresh;
  }

  confirm(uid: string): SandboxBooking {
    const booking = this.get(uid);
    if (booking.status !== 'pending') throw new ApiError(400, `Booking with uid=${uid} is not pending`);
    booking.status = 'accepted';
    booking.updatedAt = this.clock().toISOString();
    this.emit('BOOKING_CREATED', booking);
    return booking;
  }

  reject(uid: string, reason?: string): SandboxBooking {
    const booking = this.get(uid);
    if (booking.status !== 'pending') throw new ApiError(400, `Booking with uid=${uid} is not pending`);
    booking.status = 'rejected';
    if (reason) booking.cancellationReason = reason;
    booking.updatedAt = this.clock().toISOString();
    this.emit('BOOKING_REJECTED', booking, { rejectionReason: reason ?? null });
    return booking;
  }

  /** Marks attendees (and/or the host) absent; emits BOOKING_NO_SHOW_UPDATED. */
  markAbsent(uid: string, input: { host?: boolean; attendees?: Array<{ email: string; absent: boolean }> }): SandboxBooking {
    const booking = this.get(uid);
    if (input.host !== undefined) booking.absentHost = input.host;
    const changed: Array<{ email: string; noShow: boolean }> = [];
    for (const a of input.attendees ?? []) {
      const attendee = booking.attendees.find((x) => x.email === a.email);
      if (!attendee) throw new ApiError(400, `Attendee with email ${a.email} is not part of booking ${uid}`);
      attendee.absent = a.absent;
      changed.push({ email: a.email, noShow: a.absent });
    }
    booking.updatedAt = this.clock().toISOString();
    if (changed.length) {
      // Payload shape from sendPayload.ts `BookingNoShowUpdatedPayload`.
      this.webhooks.emit('BOOKING_NO_SHOW_UPDATED', booking.userId, {
        message: changed.length === 1 ? `${changed[0]!.email} marked as no-show` : 'Attendees marked as no-show',
        bookingUid: booking.uid,
        bookingId: booking.id,
        attendees: changed,
      });
    }
    return booking;
  }

  private emit(trigger: string, booking: SandboxBooking, extra: Record<string, unknown> = {}): void {
    const eventType = this.store.eventTypes.get(booking.eventTypeId);
    const owner = this.store.users.get(booking.userId);
    if (!eventType || !owner) return;
    this.webhooks.emit(trigger, owner.id, { ...bookingWebhookPayload(booking, eventType, owner), ...extra });
  }
}

/**
 * Cal.com's rule (document): at most 50 keys, keys up to 40 characters,
 * string values up to 500 characters; webhook metadata values are
 * string | number | boolean | null.
 */
export function sanitizeMetadata(input: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const entries = Object.entries(input);
  if (entries.length > 50) throw new ApiError(400, 'metadata must have at most 50 keys');
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of entries) {
    if (k.length > 40) throw new ApiError(400, `metadata key ${k.slice(0, 40)}… is longer than 40 characters`);
    if (typeof v === 'string') {
      if (v.length > 500) throw new ApiError(400, `metadata value of ${k} is longer than 500 characters`);
      out[k] = v;
    } else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[k] = v;
    else throw new ApiError(400, `metadata value of ${k} must be a string, number, boolean or null`);
  }
  return out;
}
