import { z } from 'zod';
import { success } from './envelope.js';
import type { CalcomAuth, CalcomHttp, CalcomOperation, RateLimitObserver } from './http.js';

/** Bookings, API version 2024-08-13 (the document requires `cal-api-version` on each). */
const BOOKINGS_API_VERSION = '2024-08-13';

const BookingAttendee = z.looseObject({
  name: z.string().nullish(),
  email: z.string(),
  timeZone: z.string().nullish(),
  language: z.string().nullish(),
  absent: z.boolean().nullish(),
});

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

/** Every `BookingStatus` (packages/prisma enum), lower-cased as API v2 returns it. */
const CALCOM_BOOKING_STATUSES = ['accepted', 'pending', 'cancelled', 'rejected', 'awaiting_host'] as const;

/**
 * `BookingOutput_2024_08_13`: the members Calbridge reads, as Cal.com really returns them, which is
 * looser than the document (apps/api/v2/src/ee/bookings/2024-08-13/services/output.service.ts):
 * `eventTypeId` and `eventType` are null once the event type was deleted; a host's `name` can be null
 * and a booking without a user gets a host `{ id: "unknown", … }`; `status` is any BookingStatus
 * lower-cased (`awaiting_host` included); `updatedAt` can be null; `cancellationReason` can be "".
 */
export const BookingOutput = z.looseObject({
  id: z.number(),
  uid: z.string().min(1).max(200),
  title: z.string().nullish(),
  status: z.string().transform((s) => s.toLowerCase()).pipe(z.enum(CALCOM_BOOKING_STATUSES)),
  start: isoDate,
  end: isoDate,
  duration: z.number().nullish(),
  eventTypeId: z.number().nullable(),
  eventType: z.looseObject({ id: z.number(), slug: z.string() }).nullish(),
  hosts: z.array(
    z.looseObject({
      id: z.union([z.number(), z.string()]),
      name: z.string().nullish(),
      email: z.string().nullish(),
      username: z.string().nullish(),
      timeZone: z.string().nullish(),
    }),
  ),
  attendees: z.array(BookingAttendee),
  guests: z.array(z.string()).nullish(),
  location: z.string().nullish(),
  meetingUrl: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  cancellationReason: z.string().nullish(),
  rescheduledFromUid: z.string().nullish(),
  rescheduledToUid: z.string().nullish(),
  createdAt: isoDate,
  updatedAt: isoDate.nullable(),
});
export type BookingOutput = z.infer<typeof BookingOutput>;

const Pagination = z.looseObject({
  totalItems: z.number(),
  returnedItems: z.number(),
  hasNextPage: z.boolean(),
});

export const bookingOperations = {
  create: {
    method: 'POST',
    path: '/v2/bookings',
    apiVersion: BOOKINGS_API_VERSION,
    response: success(BookingOutput),
    retry: 'not-idempotent',
  },
  list: {
    method: 'GET',
    path: '/v2/bookings',
    apiVersion: BOOKINGS_API_VERSION,
    // Items are read one by one (reconciliation.service.ts): one odd booking must not fail the page.
    // Recurring and seated bookings have other shapes too.
    response: success(z.array(z.unknown())).extend({ pagination: Pagination }),
    retry: 'idempotent',
  },
  get: {
    method: 'GET',
    path: '/v2/bookings/{bookingUid}',
    apiVersion: BOOKINGS_API_VERSION,
    response: success(BookingOutput),
    retry: 'idempotent',
  },
  cancel: {
    method: 'POST',
    path: '/v2/bookings/{bookingUid}/cancel',
    apiVersion: BOOKINGS_API_VERSION,
    response: success(BookingOutput),
    // Cancelling twice is refused with a 400, never done twice.
    retry: 'idempotent',
  },
} as const satisfies Record<string, CalcomOperation>;

/** `CreateBookingInput_2024_08_13`, the subset Calbridge sends. */
export interface CreateBookingInput {
  start: string;
  attendee: { name: string; email: string; timeZone: string; language?: string };
  eventTypeSlug: string;
  username: string;
  guests?: string[];
  metadata?: Record<string, string>;
  bookingFieldsResponses?: Record<string, unknown>;
}

export interface ListBookingsQuery {
  afterUpdatedAt?: string;
  sortUpdatedAt?: 'asc' | 'desc';
  take?: number;
  skip?: number;
}

export function bookingsApi(http: CalcomHttp) {
  return {
    create: async (auth: CalcomAuth, input: CreateBookingInput) => (await http.request(bookingOperations.create, { auth, body: input })).data,
    list: async (auth: CalcomAuth, query: ListBookingsQuery, rateLimit?: RateLimitObserver) => {
      const r = await http.request(bookingOperations.list, { auth, query: { ...query }, ...(rateLimit ? { rateLimit } : {}) });
      return { items: r.data, hasNextPage: r.pagination.hasNextPage };
    },
    get: async (auth: CalcomAuth, uid: string) => (await http.request(bookingOperations.get, { auth, params: { bookingUid: uid } })).data,
    cancel: async (auth: CalcomAuth, uid: string, reason?: string) =>
      (await http.request(bookingOperations.cancel, { auth, params: { bookingUid: uid }, body: reason ? { cancellationReason: reason } : {} })).data,
  };
}
