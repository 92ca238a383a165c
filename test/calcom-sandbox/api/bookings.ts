import { authenticate, type Caller } from '../auth.js';
import type { SandboxContext } from '../context.js';
import { ApiError, jsonBody, optionalString, requireApiVersion, requiredString, sendSuccess, type Router } from '../http.js';
import { bookingOutput } from '../outputs.js';
import type { SandboxBooking, SandboxEventType } from '../types.js';
import { optionalCaller } from './event-types.js';

const VERSION = '2024-08-13';

/** Bookings, API version 2024-08-13. */
export function registerBookings(router: Router, sx: SandboxContext): void {
  const out = (b: SandboxBooking): Record<string, unknown> =>
    bookingOutput(b, sx.store.eventTypes.get(b.eventTypeId), sx.store.users.get(b.userId));

  router.on('POST', '/v2/bookings', (ctx) => {
    requireApiVersion(ctx, VERSION);
    optionalCaller(ctx, sx);
    const body = jsonBody(ctx);
    if ('recurrenceCount' in body) throw new ApiError(400, 'The sandbox does not emulate recurring bookings');
    const start = new Date(requiredString(body, 'start'));
    if (Number.isNaN(start.getTime())) throw new ApiError(400, 'start must be a valid ISO 8601 date string');
    const attendee = body['attendee'];
    if (!attendee || typeof attendee !== 'object') throw new ApiError(400, 'attendee should not be empty');
    const a = attendee as Record<string, unknown>;
    const name = requiredString(a, 'name');
    const timeZone = requiredString(a, 'timeZone');
    const email = optionalString(a, 'email');
    const phoneNumber = optionalString(a, 'phoneNumber');
    // The schema leaves email optional (phone-only bookings in organisations); personal event types need it.
    if (!email) throw new ApiError(400, 'attendee.email is required for this event type');
    const guests = body['guests'];
    if (guests !== undefined && (!Array.isArray(guests) || guests.some((g) => typeof g !== 'string'))) {
      throw new ApiError(400, 'guests must be an array of email strings');
    }
    const metadata = objectOrUndefined(body, 'metadata');
    const bookingFieldsResponses = objectOrUndefined(body, 'bookingFieldsResponses');
    const length = body['lengthInMinutes'];
    if (length !== undefined && typeof length !== 'number') throw new ApiError(400, 'lengthInMinutes must be a number');
    const booking = sx.bookings.create({
      eventType: resolveEventType(sx, body),
      start,
      attendee: {
        name,
        email,
        timeZone,
        ...(optionalString(a, 'language') ? { language: bookingLanguage(optionalString(a, 'language')!) } : {}),
        ...(phoneNumber ? { phoneNumber } : {}),
      },
      ...(guests ? { guests: guests as string[] } : {}),
      ...(metadata ? { metadata } : {}),
      ...(bookingFieldsResponses ? { bookingFieldsResponses } : {}),
      ...(typeof length === 'number' ? { lengthInMinutes: length } : {}),
    });
    sendSuccess(ctx.res, 201, out(booking));
  });

  router.on('GET', '/v2/bookings', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const { user } = authenticate(ctx, sx.store, sx.clock);
    const q = ctx.url.searchParams;
    const now = sx.clock().getTime();
    let list = sx.store.bookingsOf(user.id);
    const statuses = (q.get('status') ?? '').split(',').filter(Boolean);
    if (statuses.length) {
      list = list.filter((b) =>
        statuses.some((s) => {
          const end = Date.parse(b.end);
          const live = b.status === 'accepted' || b.status === 'pending';
          if (s === 'upcoming') return live && end >= now;
          if (s === 'past') return live && end < now;
          if (s === 'cancelled') return b.status === 'cancelled' || b.status === 'rejected';
          if (s === 'unconfirmed') return b.status === 'pending' && end >= now;
          if (s === 'recurring') return false; // recurring bookings are not emulated
          throw new ApiError(400, `status must be one of upcoming, recurring, past, cancelled, unconfirmed`);
        }),
      );
    }
    const attendeeEmail = q.get('attendeeEmail');
    if (attendeeEmail) list = list.filter((b) => b.attendees.some((a) => a.email === attendeeEmail));
    const attendeeName = q.get('attendeeName');
    if (attendeeName) list = list.filter((b) => b.attendees.some((a) => a.name === attendeeName));
    const bookingUid = q.get('bookingUid');
    if (bookingUid) list = list.filter((b) => b.uid === bookingUid);
    const ids = [q.get('eventTypeIds'), q.get('eventTypeId')].filter(Boolean).join(',').split(',').filter(Boolean).map(Number);
    if (ids.length) list = list.filter((b) => ids.includes(b.eventTypeId));
    const cmp = (field: keyof SandboxBooking, param: string, op: 'after' | 'before'): void => {
      const v = q.get(param);
      if (!v) return;
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw new ApiError(400, `${param} must be an ISO 8601 date string`);
      list = list.filter((b) => (op === 'after' ? Date.parse(String(b[field])) >= t : Date.parse(String(b[field])) <= t));
    };
    cmp('start', 'afterStart', 'after');
    cmp('end', 'beforeEnd', 'before');
    cmp('createdAt', 'afterCreatedAt', 'after');
    cmp('createdAt', 'beforeCreatedAt', 'before');
    cmp('updatedAt', 'afterUpdatedAt', 'after');
    cmp('updatedAt', 'beforeUpdatedAt', 'before');
    const sorts: Array<[string, keyof SandboxBooking]> = [
      ['sortStart', 'start'],
      ['sortEnd', 'end'],
      ['sortCreated', 'createdAt'],
      ['sortUpdatedAt', 'updatedAt'],
    ];
    list.sort((x, y) => x.id - y.id);
    for (const [param, field] of sorts) {
      const dir = q.get(param);
      if (dir === 'asc' || dir === 'desc') {
        const sign = dir === 'asc' ? 1 : -1;
        list.sort((x, y) => sign * (Date.parse(String(x[field])) - Date.parse(String(y[field]))));
      }
    }
    const take = q.get('take') === null ? 100 : Number(q.get('take'));
    const skip = q.get('skip') === null ? 0 : Number(q.get('skip'));
    if (!Number.isInteger(take) || take < 1 || !Number.isInteger(skip) || skip < 0) {
      throw new ApiError(400, 'take must be a positive integer and skip a non-negative integer');
    }
    const page = list.slice(skip, skip + take);
    const totalItems = list.length;
    const totalPages = Math.ceil(totalItems / take);
    const currentPage = Math.floor(skip / take) + 1;
    sendSuccess(ctx.res, 200, page.map(out), {
      pagination: {
        totalItems,
        remainingItems: Math.max(0, totalItems - (skip + page.length)),
        returnedItems: page.length,
        itemsPerPage: take,
        currentPage,
        totalPages,
        hasNextPage: skip + page.length < totalItems,
        hasPreviousPage: skip > 0,
      },
    });
  });

  router.on('GET', '/v2/bookings/:bookingUid', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const caller = optionalCaller(ctx, sx);
    const booking = sx.bookings.get(ctx.params['bookingUid']!);
    assertMayAct(caller, booking, false);
    sendSuccess(ctx.res, 200, out(booking));
  });

  router.on('POST', '/v2/bookings/:bookingUid/cancel', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const caller = optionalCaller(ctx, sx);
    const booking = sx.bookings.get(ctx.params['bookingUid']!);
    assertMayAct(caller, booking, false);
    const body = jsonBody(ctx);
    const reason = optionalString(body, 'cancellationReason');
    sendSuccess(ctx.res, 200, out(sx.bookings.cancel(booking.uid, reason, caller?.user.email)));
  });

  router.on('POST', '/v2/bookings/:bookingUid/reschedule', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const caller = optionalCaller(ctx, sx);
    const booking = sx.bookings.get(ctx.params['bookingUid']!);
    assertMayAct(caller, booking, false);
    const body = jsonBody(ctx);
    const start = new Date(requiredString(body, 'start'));
    if (Number.isNaN(start.getTime())) throw new ApiError(400, 'start must be a valid ISO 8601 date string');
    const reason = optionalString(body, 'reschedulingReason');
    const by = optionalString(body, 'rescheduledBy') ?? caller?.user.email;
    const fresh = sx.bookings.reschedule(booking.uid, start, { ...(reason ? { reason } : {}), ...(by ? { rescheduledBy: by } : {}) });
    sendSuccess(ctx.res, 201, out(fresh));
  });

  router.on('POST', '/v2/bookings/:bookingUid/mark-absent', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const caller = authenticate(ctx, sx.store, sx.clock);
    const booking = sx.bookings.get(ctx.params['bookingUid']!);
    assertMayAct(caller, booking, true);
    const body = jsonBody(ctx);
    const host = body['host'];
    if (host !== undefined && typeof host !== 'boolean') throw new ApiError(400, 'host must be a boolean');
    const attendees = body['attendees'];
    if (
      attendees !== undefined &&
      (!Array.isArray(attendees) ||
        attendees.some((x) => !x || typeof x !== 'object' || typeof x.email !== 'string' || typeof x.absent !== 'boolean'))
    ) {
      throw new ApiError(400, 'attendees must be an array of { email, absent }');
    }
    const updated = sx.bookings.markAbsent(booking.uid, {
      ...(typeof host === 'boolean' ? { host } : {}),
      ...(attendees ? { attendees: attendees as Array<{ email: string; absent: boolean }> } : {}),
    });
    sendSuccess(ctx.res, 200, out(updated));
  });

  router.on('POST', '/v2/bookings/:bookingUid/confirm', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const caller = authenticate(ctx, sx.store, sx.clock);
    assertMayAct(caller, sx.bookings.get(ctx.params['bookingUid']!), true);
    sendSuccess(ctx.res, 200, out(sx.bookings.confirm(ctx.params['bookingUid']!)));
  });

  router.on('POST', '/v2/bookings/:bookingUid/decline', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const caller = authenticate(ctx, sx.store, sx.clock);
    assertMayAct(caller, sx.bookings.get(ctx.params['bookingUid']!), true);
    const reason = optionalString(jsonBody(ctx), 'reason');
    sendSuccess(ctx.res, 200, out(sx.bookings.reject(ctx.params['bookingUid']!, reason)));
  });
}

function resolveEventType(sx: SandboxContext, body: Record<string, unknown>): SandboxEventType {
  const id = body['eventTypeId'];
  if (id !== undefined) {
    if (typeof id !== 'number') throw new ApiError(400, 'eventTypeId must be a number');
    const et = sx.store.eventTypes.get(id);
    if (!et) throw new ApiError(404, `Event type with id=${id} not found`);
    return et;
  }
  const slug = optionalString(body, 'eventTypeSlug');
  const username = optionalString(body, 'username');
  if (slug && username) {
    const user = sx.store.userByUsername(username);
    const et = user && sx.store.eventTypeBySlug(user.id, slug);
    if (!et) throw new ApiError(404, `Event type with slug=${slug} belonging to user ${username} not found`);
    return et;
  }
  throw new ApiError(400, 'Either eventTypeId or eventTypeSlug + username must be provided (teamSlug is not emulated)');
}

function objectOrUndefined(body: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, `${key} must be an object`);
  return v as Record<string, unknown>;
}

/**
 * A caller that authenticated must own the booking. Unauthenticated access is
 * allowed where the document marks Authorization optional (get, cancel,
 * reschedule), as Cal.com lets attendees act by uid.
 */
function assertMayAct(caller: Caller | undefined, booking: SandboxBooking, authRequired: boolean): void {
  if (!caller) {
    if (authRequired) throw new ApiError(401, 'Authentication required');
    return;
  }
  if (caller.user.id !== booking.userId) {
    throw new ApiError(403, `Booking with uid=${booking.uid} does not belong to the authenticated user`);
  }
}

/**
 * Cal.com's `BookingLanguage` enum (packages/platform/types/bookings/2024-08-13/inputs/language.ts);
 * create-booking.input.ts validates `attendee.language` with `@IsEnum(BookingLanguage)`.
 */
const BOOKING_LANGUAGES = [
  'ar', 'ca', 'de', 'es', 'eu', 'he', 'id', 'ja', 'lv', 'pl', 'ro', 'sr', 'th', 'vi', 'az', 'cs', 'el', 'es-419',
  'fi', 'hr', 'it', 'km', 'nl', 'pt', 'ru', 'sv', 'tr', 'zh-CN', 'bg', 'da', 'en', 'et', 'fr', 'hu', 'iw', 'ko',
  'no', 'pt-BR', 'sk', 'ta', 'uk', 'zh-TW', 'bn',
];

function bookingLanguage(value: string): string {
  if (!BOOKING_LANGUAGES.includes(value)) {
    throw new ApiError(400, `attendee.language must be one of the following values: ${BOOKING_LANGUAGES.join(', ')}`);
  }
  return value;
}
