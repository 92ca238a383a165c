import { z } from 'zod';
import { success } from './envelope.js';
import type { CalcomAuth, CalcomHttp, CalcomOperation } from './http.js';

/** Bookings, API version 2024-08-13 (the document requires `cal-api-version` on each). */
export const BOOKINGS_API_VERSION = '2024-08-13';

export const BookingAttendee = z.looseObject({
  name: z.string(),
  email: z.string(),
  timeZone: z.string(),
  language: z.string().optional(),
  absent: z.boolean(),
});

/** `BookingOutput_2024_08_13`: the members Calbridge reads. */
export const BookingOutput = z.looseObject({
  id: z.number(),
  uid: z.string(),
  title: z.string(),
  status: z.enum(['cancelled', 'accepted', 'rejected', 'pending']),
  start: z.string(),
  end: z.string(),
  duration: z.number(),
  eventTypeId: z.number(),
  eventType: z.looseObject({ id: z.number(), slug: z.string() }),
  hosts: z.array(z.looseObject({ id: z.number(), name: z.string(), email: z.string(), username: z.string(), timeZone: z.string() })),
  attendees: z.array(BookingAttendee),
  guests: z.array(z.string()).optional(),
  location: z.string().optional(),
  meetingUrl: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  cancellationReason: z.string().optional(),
  rescheduledFromUid: z.string().optional(),
  rescheduledToUid: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type BookingOutput = z.infer<typeof BookingOutput>;

export const Pagination = z.looseObject({
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
    // Recurring and seated bookings have other shapes; Calbridge lists plain ones.
    response: success(z.array(BookingOutput)).extend({ pagination: Pagination }),
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
    list: async (auth: CalcomAuth, query: ListBookingsQuery) => {
      const r = await http.request(bookingOperations.list, { auth, query: { ...query } });
      return { data: r.data, hasNextPage: r.pagination.hasNextPage };
    },
    get: async (auth: CalcomAuth, uid: string) => (await http.request(bookingOperations.get, { auth, params: { bookingUid: uid } })).data,
    cancel: async (auth: CalcomAuth, uid: string, reason?: string) =>
      (await http.request(bookingOperations.cancel, { auth, params: { bookingUid: uid }, body: reason ? { cancellationReason: reason } : {} })).data,
  };
}
