import { z } from 'zod';

// Cal.com webhook deliveries as Calbridge reads them (see shared/calcom/FACTS.md:
// packages/features/webhooks/lib/sendPayload.ts). Liberal about fields we do not
// use (every object passes unknown keys through, so Cal.com adding a field never
// breaks the intake), strict about the ones we rely on: the trigger, the time,
// the booking uid and times, the status and the attendees' emails.

/**
 * The booking metadata key under which the Calbridge widget records the
 * tenant slug (Cal.com keeps at most 50 metadata keys of up to 40 characters).
 * A delivery whose booking metadata names another tenant is refused.
 */
export const CALBRIDGE_TENANT_METADATA_KEY = 'calbridge_tenant';

/** Every trigger Cal.com sends (enum `WebhookTriggerEvents`). Others are stored and acknowledged, never refused. */
export const CALCOM_WEBHOOK_TRIGGERS = [
  'BOOKING_CREATED',
  'BOOKING_PAYMENT_INITIATED',
  'BOOKING_PAID',
  'BOOKING_RESCHEDULED',
  'BOOKING_REQUESTED',
  'BOOKING_CANCELLED',
  'BOOKING_REJECTED',
  'BOOKING_NO_SHOW_UPDATED',
  'FORM_SUBMITTED',
  'MEETING_ENDED',
  'MEETING_STARTED',
  'RECORDING_READY',
  'RECORDING_TRANSCRIPTION_GENERATED',
  'OOO_CREATED',
  'AFTER_HOSTS_CAL_VIDEO_NO_SHOW',
  'AFTER_GUESTS_CAL_VIDEO_NO_SHOW',
  'FORM_SUBMITTED_NO_EVENT',
  'DELEGATION_CREDENTIAL_ERROR',
  'WRONG_ASSIGNMENT_REPORT',
] as const;
export type CalcomWebhookTrigger = (typeof CALCOM_WEBHOOK_TRIGGERS)[number];

/** Triggers whose payload is a whole booking (`EventPayloadType`): they move a booking's state. */
export const CALCOM_BOOKING_TRIGGERS = [
  'BOOKING_CREATED',
  'BOOKING_PAYMENT_INITIATED',
  'BOOKING_PAID',
  'BOOKING_RESCHEDULED',
  'BOOKING_REQUESTED',
  'BOOKING_CANCELLED',
  'BOOKING_REJECTED',
] as const satisfies readonly CalcomWebhookTrigger[];

/** Triggers about a meeting of a known booking: recorded in its history, they never change its status. */
export const CALCOM_MEETING_TRIGGERS = [
  'MEETING_STARTED',
  'MEETING_ENDED',
  'RECORDING_READY',
  'RECORDING_TRANSCRIPTION_GENERATED',
  'AFTER_HOSTS_CAL_VIDEO_NO_SHOW',
  'AFTER_GUESTS_CAL_VIDEO_NO_SHOW',
] as const satisfies readonly CalcomWebhookTrigger[];

/** Cal.com's `BookingStatus`, upper case in webhooks. */
export const CalcomBookingStatus = z.enum(['ACCEPTED', 'PENDING', 'CANCELLED', 'REJECTED', 'AWAITING_HOST']);
export type CalcomBookingStatus = z.infer<typeof CalcomBookingStatus>;

/** An ISO 8601 instant with `Z` or an offset, between 1970 and 9999. */
export const CalcomInstant = z.iso.datetime({ offset: true }).refine(
  (s) => {
    const t = Date.parse(s);
    return Number.isFinite(t) && t >= 0 && t < 253402300800000;
  },
  { message: 'an ISO 8601 time between 1970 and 9999' },
);

/** A booking uid as Cal.com issues it (short-uuid / cuid style). */
export const CalcomBookingUid = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a Cal.com booking uid');

// Everything but the booking uid degrades to null when Cal.com sends a type we
// did not foresee (`.catch`): a verified delivery is applied with what it
// carries rather than refused, because Cal.com never resends what we refuse.
const Id = z.number().int().min(0).max(2147483647).nullish().catch(null);
const Text = z.string().nullish().catch(null);
const Instant = CalcomInstant.nullish().catch(null);
const Uid = CalcomBookingUid.nullish().catch(null);

/**
 * Booking metadata: any JSON values, every key kept. Cal.com documents string,
 * number, boolean or null values, but web-booker metadata is an unbounded
 * record any visitor sets (`bookingCreateBodySchema.ts`) and BOOKING_PAID adds
 * payment data (`handlePaymentSuccess.ts`); not an object reads as none.
 */
export const CalcomMetadata = z.record(z.string(), z.unknown()).nullish().catch(null);

export const CalcomAttendee = z.looseObject({
  name: Text,
  email: z.string().max(1000),
  timeZone: Text,
  noShow: z.boolean().nullish().catch(null),
});
export type CalcomAttendee = z.infer<typeof CalcomAttendee>;

/** Attendees as far as they can be read: an entry without an email string is left out of the projection (the raw body keeps it). */
const Attendees = z
  .array(z.unknown())
  .catch([])
  .default([])
  .transform((list) => list.slice(0, 1000).flatMap((a) => {
    const r = CalcomAttendee.safeParse(a);
    return r.success ? [r.data] : [];
  }));

export const CalcomOrganizer = z.looseObject({
  id: Id,
  name: Text,
  email: Text,
  username: Text,
  timeZone: Text,
});

/** The payload of the booking triggers (`EventPayloadType`). */
export const CalcomBookingPayload = z.looseObject({
  uid: CalcomBookingUid,
  bookingId: Id,
  type: Text,
  title: Text,
  startTime: Instant,
  endTime: Instant,
  status: CalcomBookingStatus.nullish().catch(null),
  eventTypeId: Id,
  attendees: Attendees,
  organizer: CalcomOrganizer.nullish().catch(null),
  metadata: CalcomMetadata,
  /** On a reschedule: the uid of the booking this one replaces. */
  rescheduleUid: Uid,
  rescheduleId: Id,
  rescheduleStartTime: Instant,
  rescheduleEndTime: Instant,
  cancellationReason: Text,
  /** BOOKING_REJECTED: the host's reason (`confirm.handler.ts`), not `cancellationReason`. */
  rejectionReason: Text,
  /** Kept by Cal.com across reschedules (`getICalSequence`: the sequence grows by one per reschedule). */
  iCalUID: Text,
  iCalSequence: z.number().int().min(0).max(2147483647).nullish().catch(null),
});
export type CalcomBookingPayload = z.infer<typeof CalcomBookingPayload>;

/** `BOOKING_NO_SHOW_UPDATED`: which attendees did or did not show. */
export const CalcomNoShowPayload = z.looseObject({
  bookingUid: CalcomBookingUid,
  bookingId: Id,
  message: Text,
  attendees: z
    .array(z.unknown())
    .catch([])
    .default([])
    .transform((list) => list.slice(0, 1000).flatMap((a) => {
      const r = z.looseObject({ email: z.string().max(1000), noShow: z.boolean() }).safeParse(a);
      return r.success ? [r.data] : [];
    })),
});
export type CalcomNoShowPayload = z.infer<typeof CalcomNoShowPayload>;

/**
 * Meeting and recording triggers. MEETING_STARTED / MEETING_ENDED are scheduled
 * and sent flat, `JSON.stringify({ triggerEvent, ...booking })`
 * (packages/features/webhooks/lib/scheduleTrigger.ts), so the booking's own
 * fields (`uid`, `id`, `startTime`, `endTime`, `createdAt` = the booking's
 * creation) sit beside `triggerEvent`; newer builders also nest them under
 * `payload` (MeetingPayloadBuilder.ts), and the Cal Video no-show triggers
 * carry only `payload.bookingId`. Read from either place, `payload` first.
 */
export const CalcomMeetingPayload = z.looseObject({
  uid: Uid,
  bookingUid: Uid,
  id: Id,
  bookingId: Id,
  startTime: Instant,
  endTime: Instant,
  metadata: CalcomMetadata,
});

/** The default body `JSON.stringify({ triggerEvent, createdAt, payload })`. */
export const CalcomWebhookEnvelope = z.looseObject({
  triggerEvent: z.string().regex(/^[A-Z][A-Z0-9_]{0,99}$/, 'a Cal.com trigger name'),
  createdAt: CalcomInstant,
  payload: z.record(z.string(), z.unknown()),
});
export type CalcomWebhookEnvelope = z.infer<typeof CalcomWebhookEnvelope>;

/** A delivery read into what Calbridge acts on. */
export type CalcomWebhook =
  | { kind: 'booking'; trigger: (typeof CALCOM_BOOKING_TRIGGERS)[number]; createdAt: string; booking: CalcomBookingPayload }
  | { kind: 'no_show'; trigger: 'BOOKING_NO_SHOW_UPDATED'; createdAt: string; noShow: CalcomNoShowPayload }
  | {
      kind: 'meeting';
      trigger: (typeof CALCOM_MEETING_TRIGGERS)[number];
      /** The envelope's createdAt; for the flat scheduled triggers, the booking's creation time (or null). */
      createdAt: string | null;
      bookingUid: string | null;
      /** Cal.com's numeric booking id, when the uid is not carried. */
      calcomId: number | null;
      startTime: string | null;
      endTime: string | null;
      metadata: Record<string, unknown> | null;
    }
  | { kind: 'other'; trigger: string; createdAt: string | null };

const isOneOf = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

const Trigger = z.string().regex(/^[A-Z][A-Z0-9_]{0,99}$/, 'a Cal.com trigger name');
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a parsed JSON body into a {@link CalcomWebhook}: the trigger first,
 * then the payload by trigger. Unknown triggers pass as `other` (stored and
 * acknowledged). Use after the signature has been verified; a failure means
 * "cannot be applied yet", never "refuse".
 */
export const CalcomWebhook = z.unknown().transform((body, ctx): CalcomWebhook => {
  if (!isRecord(body)) {
    ctx.addIssue({ code: 'custom', message: 'not a JSON object', path: [] });
    return z.NEVER;
  }
  const trigger = Trigger.safeParse(body.triggerEvent);
  if (!trigger.success) {
    ctx.addIssue({ code: 'custom', message: 'a Cal.com trigger name', path: ['triggerEvent'] });
    return z.NEVER;
  }
  const t = trigger.data;
  const created = CalcomInstant.safeParse(body.createdAt);
  const createdAt = created.success ? created.data : null;
  const sub = <S extends z.ZodType>(schema: S, value: unknown, path: string[]): z.infer<S> | undefined => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [...path, ...issue.path] });
    return undefined;
  };

  if (isOneOf(CALCOM_MEETING_TRIGGERS, t)) {
    const { triggerEvent: _t, payload, ...flat } = body;
    const nested = isRecord(payload) ? payload : {};
    const m = sub(CalcomMeetingPayload, { ...flat, ...Object.fromEntries(Object.entries(nested).filter(([, v]) => v !== undefined && v !== null)) }, []);
    if (!m) return z.NEVER;
    return {
      kind: 'meeting',
      trigger: t,
      createdAt,
      bookingUid: m.uid ?? m.bookingUid ?? null,
      calcomId: m.bookingId ?? m.id ?? null,
      startTime: m.startTime ?? null,
      endTime: m.endTime ?? null,
      metadata: m.metadata ?? null,
    };
  }

  const isBooking = isOneOf(CALCOM_BOOKING_TRIGGERS, t);
  if (isBooking || t === 'BOOKING_NO_SHOW_UPDATED') {
    if (!createdAt) {
      ctx.addIssue({ code: 'custom', message: 'an ISO 8601 time between 1970 and 9999', path: ['createdAt'] });
      return z.NEVER;
    }
    if (!isRecord(body.payload)) {
      ctx.addIssue({ code: 'custom', message: 'an object', path: ['payload'] });
      return z.NEVER;
    }
    if (isBooking) {
      const booking = sub(CalcomBookingPayload, body.payload, ['payload']);
      return booking ? { kind: 'booking', trigger: t, createdAt, booking } : z.NEVER;
    }
    const noShow = sub(CalcomNoShowPayload, body.payload, ['payload']);
    return noShow ? { kind: 'no_show', trigger: 'BOOKING_NO_SHOW_UPDATED', createdAt, noShow } : z.NEVER;
  }
  return { kind: 'other', trigger: t, createdAt };
});
