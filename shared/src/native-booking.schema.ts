import { z } from 'zod';
import { TimeZone } from './web.schema.js';

// Native booking mode: <calbridge-booking mode="native"> shows our own slot picker and form and
// books through the server (`/v1/widget/:tenant/slots`, `/v1/widget/:tenant/bookings`, Bearer
// widget session with the `bookings:create` scope). The widget mirrors these with small readers.

/** An event type slug as Cal.com's API v2 takes it (`eventTypeSlug`). */
const NativeEventSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'an event type slug such as "intro-call"');
const Instant = z.iso.datetime({ offset: true });

/** Query of `GET /v1/widget/:tenant/slots`: free slots of `eventType` between `start` and `end`, shown in `timeZone`. */
export const SlotsQuery = z.strictObject({
  eventType: NativeEventSlug,
  start: Instant,
  end: Instant,
  timeZone: TimeZone,
});
export type SlotsQuery = z.infer<typeof SlotsQuery>;

/** One bookable slot; times carry the visitor's UTC offset. */
export const Slot = z.object({ start: Instant, end: Instant });
export type Slot = z.infer<typeof Slot>;

/** Answer to `GET /v1/widget/:tenant/slots`: days (`YYYY-MM-DD` in `timeZone`) with free slots, in order. */
export const SlotsResponse = z.object({
  eventType: z.string(),
  timeZone: z.string(),
  days: z.array(z.object({ date: z.iso.date(), slots: z.array(Slot) })),
});
export type SlotsResponse = z.infer<typeof SlotsResponse>;

/**
 * Native mode's first page of free times, carried by the session answer
 * (`CreateSessionResponse.slots`): the answer to the `SlotsQuery` the session request named, with
 * the window it covers, so the picker takes it only for exactly the page it shows first
 * (decision 0027).
 */
export const SessionSlots = SlotsResponse.extend({ start: Instant, end: Instant });
export type SessionSlots = z.infer<typeof SessionSlots>;

/**
 * Body of `POST /v1/widget/:tenant/bookings`, sent with an `Idempotency-Key` header (8–128 of
 * `A-Za-z0-9._:-`): the same key and body book once, whatever the number of requests.
 */
export const NativeBookingRequest = z.strictObject({
  eventType: NativeEventSlug,
  start: Instant,
  attendee: z.strictObject({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(254),
    timeZone: TimeZone,
    language: z.string().regex(/^[a-z]{2}(-[A-Za-z0-9]{2,3})?$/).optional(),
  }),
  guests: z.array(z.email().max(254)).max(10).optional(),
  notes: z.string().max(2000).optional(),
});
export type NativeBookingRequest = z.infer<typeof NativeBookingRequest>;

/** Answer to `POST /v1/widget/:tenant/bookings` (201): no attendee data, so a replayed answer reveals nothing new. */
export const NativeBookingResponse = z.object({
  uid: z.string(),
  status: z.string(),
  start: Instant,
  end: Instant,
  eventTypeId: z.number().int(),
});
export type NativeBookingResponse = z.infer<typeof NativeBookingResponse>;
