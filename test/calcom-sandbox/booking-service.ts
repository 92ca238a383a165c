import { randomUUID } from 'node:crypto';
import { ApiError } from './http.js';
import { newBookingUid } from './ids.js';
import { bookingWebhookPayload } from './payloads.js';
import type { SandboxStore } from './store.js';
import { minutesOfDay, zonedParts, zonedWallTimeToUtc } from './time.js';
import type { SandboxAttendee, SandboxBooking, SandboxEventType, SandboxUser, SandboxWebhook } from './types.js';
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
  /** Emit nothing (the caller sends its own trigger, as a reschedule does). */
  silent?: boolean;
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
    if (eventType.price > 0) booking.paid = false;
    this.store.bookings.set(uid, booking);
    if (!input.rescheduledFromUid && !input.silent) {
      if (eventType.price > 0 && booking.status === 'accepted') {
        // RegularBookingService.ts: a paid booking is created ACCEPTED but unpaid; the webhook is
        // BOOKING_PAYMENT_INITIATED with status "ACCEPTED", and BOOKING_CREATED is not sent.
        this.emit('BOOKING_PAYMENT_INITIATED', booking, { status: 'ACCEPTED', paymentId: booking.id });
      } else {
        const trigger = booking.status === 'pending' ? 'BOOKING_REQUESTED' : 'BOOKING_CREATED';
        this.emit(trigger, booking);
      }
    }
    if (booking.status === 'accepted' && !(eventType.price > 0)) this.scheduleMeetingTriggers(booking);
    return booking;
  }

  /**
   * handlePaymentSuccess.ts: the booking becomes paid and BOOKING_PAID goes out with the payment's
   * metadata, not the booking's own keys (only `videoCallUrl` survives).
   */
  pay(uid: string): SandboxBooking {
    const booking = this.get(uid);
    if (booking.paid !== false) throw new ApiError(400, `Booking with uid=${uid} is not waiting for payment`);
    booking.paid = true;
    booking.updatedAt = this.clock().toISOString();
    this.emit('BOOKING_PAID', booking, { metadata: { videoCallUrl: booking.location }, paymentId: booking.id, paid: true });
    this.scheduleMeetingTriggers(booking);
    return booking;
  }

  /**
   * scheduleTrigger.ts `scheduleTrigger`: for each subscriber with MEETING_STARTED / MEETING_ENDED, a
   * row whose payload is `JSON.stringify({ triggerEvent, ...booking })`, frozen now, due at the
   * booking's start / end. Only accepted bookings get them (fetchBookingsFromWebhook).
   */
  scheduleMeetingTriggers(booking: SandboxBooking, only?: SandboxWebhook): void {
    const hooks = only ? [only] : [...this.store.webhooks.values()].filter((w) => w.userId === booking.userId && w.active);
    for (const hook of hooks) {
      for (const triggerEvent of ['MEETING_STARTED', 'MEETING_ENDED'] as const) {
        if (!hook.triggers.includes(triggerEvent)) continue;
        const id = randomUUID();
        this.store.scheduledTriggers.set(id, {
          id,
          webhookId: hook.id,
          bookingUid: booking.uid,
          subscriberUrl: hook.subscriberUrl,
          triggerEvent,
          startAfter: Date.parse(triggerEvent === 'MEETING_ENDED' ? booking.end : booking.start),
          payload: JSON.stringify({ triggerEvent, ...prismaBookingRow(booking) }),
        });
      }
    }
  }

  /** deleteWebhookScheduledTriggers({ booking }): a cancelled, rejected or rescheduled booking has no meeting triggers. */
  private dropMeetingTriggers(uid: string): void {
    for (const [id, t] of this.store.scheduledTriggers) if (t.bookingUid === uid) this.store.scheduledTriggers.delete(id);
  }

  /** updateTriggerForExistingBookings: a webhook that gains meeting triggers gets them for upcoming accepted bookings. */
  syncMeetingTriggers(hook: SandboxWebhook, before: string[]): void {
    const meeting = ['MEETING_STARTED', 'MEETING_ENDED'];
    const had = before.some((t) => meeting.includes(t));
    const has = hook.triggers.some((t) => meeting.includes(t));
    for (const [id, t] of this.store.scheduledTriggers) if (t.webhookId === hook.id && !hook.triggers.includes(t.triggerEvent)) this.store.scheduledTriggers.delete(id);
    if (has && !had) {
      const now = this.clock().getTime();
      for (const b of this.store.bookingsOf(hook.userId)) {
        if (b.status === 'accepted' && Date.parse(b.start) > now) this.scheduleMeetingTriggers(b, hook);
      }
    }
  }

  /**
   * handleWebhookScheduledTriggers.ts (a cron in Cal.com): rows older than a day are deleted unsent,
   * due rows are sent once and deleted. Returns how many were sent.
   */
  runScheduledTriggers(): number {
    const now = this.clock().getTime();
    let sent = 0;
    const due = [...this.store.scheduledTriggers.values()].sort((a, b) => a.startAfter - b.startAfter);
    for (const t of due) {
      if (t.startAfter <= now - 24 * 3600_000) {
        this.store.scheduledTriggers.delete(t.id);
        continue;
      }
      if (t.startAfter > now) continue;
      this.store.scheduledTriggers.delete(t.id);
      const hook = this.store.webhooks.get(t.webhookId);
      this.webhooks.sendScheduled(t, hook?.secret ?? null);
      sent += 1;
    }
    return sent;
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
    this.dropMeetingTriggers(booking.uid);
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
   * Cal.com's reschedule creates a new booking (with `fromReschedule`) and cancels the old one
   * marking it `rescheduled`; BOOKING_RESCHEDULED carries the new booking with
   * `rescheduleUid`/`rescheduleId` of the old one.
   *
   * `fromPage` is the booking page's reschedule (RegularBookingService.ts): the reschedule link does not
   * carry the original metadata, so the new booking and its delivery hold `{ videoCallUrl, ...query
   * metadata }` only. When the event type requires confirmation, the original is cancelled at once
   * (handleNewBooking/createBooking.ts) and the only delivery is BOOKING_REQUESTED for the new uid,
   * without `rescheduleUid` (v2021-10-20/BookingPayloadBuilder.ts); nothing is sent for the old booking.
   */
  reschedule(
    uid: string,
    start: Date,
    opts: { reason?: string; rescheduledBy?: string; fromPage?: { metadata: Record<string, string | number | boolean | null> } } = {},
  ): SandboxBooking {
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
        metadata: opts.fromPage ? opts.fromPage.metadata : old.metadata,
        bookingFieldsResponses: old.bookingFieldsResponses,
        rescheduledFromUid: old.uid,
      });
    } catch (err) {
      old.status = previousStatus;
      throw err;
    }
    this.dropMeetingTriggers(old.uid);
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
    const partial = opts.fromPage ? { metadata: { videoCallUrl: fresh.location, ...opts.fromPage.metadata } } : {};
    if (fresh.status === 'pending') {
      this.emit('BOOKING_REQUESTED', fresh, partial);
      return fresh;
    }
    this.emit('BOOKING_RESCHEDULED', fresh, {
      rescheduleId: old.id,
      rescheduleUid: old.uid,
      rescheduleStartTime: old.start,
      rescheduleEndTime: old.end,
      ...(opts.rescheduledBy ? { rescheduledBy: opts.rescheduledBy } : {}),
      ...partial,
    });
    return fresh;
  }

  confirm(uid: string): SandboxBooking {
    const booking = this.get(uid);
    if (booking.status !== 'pending') throw new ApiError(400, `Booking with uid=${uid} is not pending`);
    booking.status = 'accepted';
    booking.updatedAt = this.clock().toISOString();
    // handleConfirmation.ts: the BOOKING_CREATED sent when the host confirms carries only
    // `{ videoCallUrl }` (or `{}` without a video link) as metadata, not the booking's own keys.
    this.emit('BOOKING_CREATED', booking, { metadata: booking.location ? { videoCallUrl: booking.location } : {} });
    this.scheduleMeetingTriggers(booking);
    return booking;
  }

  reject(uid: string, reason?: string): SandboxBooking {
    const booking = this.get(uid);
    if (booking.status !== 'pending') throw new ApiError(400, `Booking with uid=${uid} is not pending`);
    booking.status = 'rejected';
    // confirm.handler.ts: the reason goes to `rejectionReason`, never to `cancellationReason`.
    if (reason) booking.rejectionReason = reason;
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

/**
 * The Prisma `Booking` row as scheduleTrigger.ts spreads it into a meeting trigger's body: dates are
 * ISO strings after JSON.stringify, `status` is the upper-case enum, `createdAt` is when the booking was
 * made (not when the trigger is sent), and there is no `payload` key.
 */
function prismaBookingRow(b: SandboxBooking): Record<string, unknown> {
  return {
    id: b.id,
    uid: b.uid,
    userId: b.userId,
    eventTypeId: b.eventTypeId,
    title: b.title,
    description: b.description || null,
    customInputs: {},
    responses: b.bookingFieldsResponses,
    startTime: b.start,
    endTime: b.end,
    location: b.location,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    status: b.status.toUpperCase(),
    paid: b.paid ?? false,
    destinationCalendarId: null,
    cancellationReason: b.cancellationReason ?? null,
    rejectionReason: b.rejectionReason ?? null,
    dynamicEventSlugRef: null,
    dynamicGroupSlugRef: null,
    rescheduled: b.rescheduled ?? null,
    fromReschedule: b.rescheduledFromUid ?? null,
    recurringEventId: null,
    smsReminderNumber: null,
    scheduledJobs: [],
    metadata: b.metadata,
    isRecorded: false,
    iCalUID: b.icsUid,
    iCalSequence: 0,
    noShowHost: b.absentHost,
  };
}
