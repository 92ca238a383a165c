import type { SandboxContext } from '../context.js';
import { ApiError, requireApiVersion, sendSuccess, type Router } from '../http.js';
import { dateKey, isoInZone, isValidTimeZone } from '../time.js';
import type { SandboxEventType } from '../types.js';

const VERSION = '2024-09-04';

/**
 * `GET /v2/slots`, version 2024-09-04. Output follows Cal.com's
 * SlotsOutputService_2024_09_04: `{ "<date>": [{ start }] }`, or
 * `[{ start, end }]` with `format=range`, dates and times in `timeZone`
 * (default UTC). Note: the document's schema for the default format says the
 * items are strings, but its own example and Cal.com's source send
 * `{ start }` objects; the sandbox follows the source.
 */
export function registerSlots(router: Router, sx: SandboxContext): void {
  router.on('GET', '/v2/slots', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const q = ctx.url.searchParams;
    const eventType = resolveEventType(sx, q);
    const from = parseBound(q.get('start'), 'start');
    const to = parseBound(q.get('end'), 'end');
    if (to < from) throw new ApiError(400, 'end must be after start');
    const timeZone = q.get('timeZone') ?? 'UTC';
    if (!isValidTimeZone(timeZone)) throw new ApiError(400, `Invalid timeZone ${timeZone}`);
    const format = q.get('format') ?? 'time';
    if (format !== 'time' && format !== 'range') throw new ApiError(400, 'format must be time or range');
    const durationParam = q.get('duration');
    const duration = durationParam ? Number(durationParam) : eventType.lengthInMinutes;
    if (duration !== eventType.lengthInMinutes) {
      throw new ApiError(400, `duration ${duration} is not an allowed length of event type ${eventType.id}`);
    }
    const excludeUid = q.get('bookingUidToReschedule') ?? undefined;
    const slots = sx.bookings.freeSlots(eventType, from, to, excludeUid ? { excludeUid } : {});
    const data: Record<string, Array<Record<string, string>>> = {};
    for (const s of slots) {
      const key = dateKey(s, timeZone);
      const item: Record<string, string> = { start: isoInZone(s, timeZone) };
      if (format === 'range') item['end'] = isoInZone(new Date(s.getTime() + duration * 60_000), timeZone);
      (data[key] ??= []).push(item);
    }
    sendSuccess(ctx.res, 200, data);
  });
}

function resolveEventType(sx: SandboxContext, q: URLSearchParams): SandboxEventType {
  const id = q.get('eventTypeId');
  if (id) {
    const et = sx.store.eventTypes.get(Number(id));
    if (!et) throw new ApiError(404, `Event type with id=${id} not found`);
    return et;
  }
  const slug = q.get('eventTypeSlug');
  const username = q.get('username');
  if (slug && username) {
    const user = sx.store.userByUsername(username);
    const et = user && sx.store.eventTypeBySlug(user.id, slug);
    if (!et) throw new ApiError(404, `Event type with slug=${slug} of user ${username} not found`);
    return et;
  }
  // usernames (dynamic events), teamSlug and organizationSlug are not emulated.
  throw new ApiError(400, 'Provide eventTypeId, or eventTypeSlug and username (the sandbox does not emulate team or dynamic events)');
}

/** Date-only values mean start/end of that UTC day (document: "Must be in UTC"). */
function parseBound(value: string | null, which: 'start' | 'end'): Date {
  if (!value) throw new ApiError(400, `${which} is required`);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const d = new Date(dateOnly ? `${value}T${which === 'start' ? '00:00:00.000' : '23:59:59.999'}Z` : value);
  if (Number.isNaN(d.getTime())) throw new ApiError(400, `${which} must be an ISO 8601 date string`);
  return d;
}
