import { z } from 'zod';

// Messages the framed Cal.com page posts to its parent (embed-iframe.ts / sdk-action-manager.ts).
// The frame is untrusted: the widget checks `event.origin` first, then validates with these
// shapes, and ignores everything else. Only the types the widget acts on are listed.

/** A Cal.com embed namespace; `:` is excluded because it separates the parts of `fullType`. */
export const EmbedNamespace = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    originator: z.literal('CAL'),
    type: z.literal(type),
    namespace: EmbedNamespace,
    fullType: z.string(),
    data,
  });

/** `bookingSuccessfulV2`: Cal.com's reduced booking payload. A booking without `uid` is useless to us and refused. */
export const BookingSuccessfulV2Data = z.object({
  uid: z.string().min(1).max(100),
  title: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
  eventTypeId: z.number().int().nullable().optional(),
  status: z.string().optional(),
  paymentRequired: z.boolean(),
  isRecurring: z.boolean(),
});
export type BookingSuccessfulV2Data = z.infer<typeof BookingSuccessfulV2Data>;

/**
 * `rescheduleBookingSuccessfulV2`: a reschedule made inside the frame (Cal.com's
 * apps/web/modules/bookings/hooks/useBookings.ts fires it instead of `bookingSuccessfulV2`).
 * Same reduced payload (sdk-action-manager.ts `EventDataMap`); `uid` is the new booking's.
 * It does not name the booking it replaces.
 */
export const RescheduleBookingSuccessfulV2Data = BookingSuccessfulV2Data.extend({});

/** `__dimensionChanged`: size of the framed page, used to size the inline frame. */
export const DimensionChangedData = z.object({
  iframeHeight: z.number().nonnegative(),
  iframeWidth: z.number().nonnegative(),
  isFirstTime: z.boolean(),
});
export type DimensionChangedData = z.infer<typeof DimensionChangedData>;

/** `linkFailed`: the booking page could not be shown (unknown link, private event, …). */
export const LinkFailedData = z.object({
  code: z.string(),
  msg: z.string(),
  data: z.object({ url: z.string() }),
});
export type LinkFailedData = z.infer<typeof LinkFailedData>;

/** One message from the Cal.com frame to its parent, discriminated by `type`; `fullType` must be `CAL:<namespace>:<type>`. */
export const EmbedMessage = z
  .discriminatedUnion('type', [
    envelope('bookingSuccessfulV2', BookingSuccessfulV2Data),
    envelope('rescheduleBookingSuccessfulV2', RescheduleBookingSuccessfulV2Data),
    envelope('__dimensionChanged', DimensionChangedData),
    envelope('linkFailed', LinkFailedData),
    envelope('linkReady', z.object({})),
    envelope('__iframeReady', z.object({})),
  ])
  .refine((m) => m.fullType === `CAL:${m.namespace}:${m.type}`, { message: 'fullType must be CAL:<namespace>:<type>' });
export type EmbedMessage = z.infer<typeof EmbedMessage>;
export type EmbedMessageType = EmbedMessage['type'];
