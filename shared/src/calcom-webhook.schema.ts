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

const Id = z.number().int().min(0).max(2147483647);
const Text = (max: number) => z.string().max(max);
const Email = z.string().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'an email address');

/** Booking metadata: string, number, boolean or null values (Cal.com's `metadata`). */
export const CalcomMetadata = z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]));

export const CalcomAttendee = z.looseObject({
  name: Text(500).nullish(),
  email: Email,
  timeZone: Text(100).nullish(),
  noShow: z.boolean().nullish(),
});
export type CalcomAttendee = z.infer<typeof CalcomAttendee>;

export const CalcomOrganizer = z.looseObject({
  id: Id.nullish(),
  name: Text(500).nullish(),
  email: Email.nullish(),
  username: Text(200).nullish(),
  timeZone: Text(100).nullish(),
});

/** The payload of the booking triggers (`EventPayloadType`). */
export const CalcomBookingPayload = z.looseObject({
  uid: CalcomBookingUid,
  bookingId: Id.nullish(),
  type: Text(200).nullish(),
  title: Text(1000).nullish(),
  startTime: CalcomInstant,
  endTime: CalcomInstant,
  status: CalcomBookingStatus.nullish(),
  eventTypeId: Id.nullish(),
  attendees: z.array(CalcomAttendee).max(1000).default([]),
  organizer: CalcomOrganizer.nullish(),
  metadata: CalcomMetadata.nullish(),
  /** On a reschedule: the uid of the booking this one replaces. */
  rescheduleUid: CalcomBookingUid.nullish(),
  rescheduleId: Id.nullish(),
  rescheduleStartTime: CalcomInstant.nullish(),
  rescheduleEndTime: CalcomInstant.nullish(),
  cancellationReason: Text(5000).nullish(),
});
export type CalcomBookingPayload = z.infer<typeof CalcomBookingPayload>;

/** `BOOKING_NO_SHOW_UPDATED`: which attendees did or did not show. */
export const CalcomNoShowPayload = z.looseObject({
  bookingUid: CalcomBookingUid,
  bookingId: Id.nullish(),
  message: Text(2000).nullish(),
  attendees: z.array(z.looseObject({ email: Email, noShow: z.boolean() })).max(1000),
});
export type CalcomNoShowPayload = z.infer<typeof CalcomNoShowPayload>;

/** Meeting and recording triggers: only the booking they belong to matters to us. */
export const CalcomMeetingPayload = z.looseObject({
  uid: CalcomBookingUid.optional(),
  bookingUid: CalcomBookingUid.optional(),
  metadata: CalcomMetadata.nullish(),
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
  | { kind: 'meeting'; trigger: (typeof CALCOM_MEETING_TRIGGERS)[number]; createdAt: string; bookingUid: string | null; metadata: Record<string, unknown> | null }
  | { kind: 'other'; trigger: string; createdAt: string };

const isOneOf = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

/**
 * Reads a parsed JSON body into a {@link CalcomWebhook}: the envelope first,
 * then the payload by trigger. Unknown triggers pass as `other` (stored and
 * acknowledged). Use after the signature has been verified.
 */
export const CalcomWebhook = CalcomWebhookEnvelope.transform((env, ctx): CalcomWebhook => {
  const { triggerEvent: trigger, createdAt, payload } = env;
  const sub = <S extends z.ZodType>(schema: S): z.infer<S> | undefined => {
    const r = schema.safeParse(payload);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: ['payload', ...issue.path] } as z.core.$ZodRawIssue);
    return undefined;
  };
  if (isOneOf(CALCOM_BOOKING_TRIGGERS, trigger)) {
    const booking = sub(CalcomBookingPayload);
    return booking ? { kind: 'booking', trigger, createdAt, booking } : z.NEVER;
  }
  if (trigger === 'BOOKING_NO_SHOW_UPDATED') {
    const noShow = sub(CalcomNoShowPayload);
    return noShow ? { kind: 'no_show', trigger, createdAt, noShow } : z.NEVER;
  }
  if (isOneOf(CALCOM_MEETING_TRIGGERS, trigger)) {
    const m = sub(CalcomMeetingPayload);
    return m ? { kind: 'meeting', trigger, createdAt, bookingUid: m.uid ?? m.bookingUid ?? null, metadata: m.metadata ?? null } : z.NEVER;
  }
  return { kind: 'other', trigger, createdAt };
});
