import type { Attendee, Organizer } from '../bookings/bookings.service.js';
import { normaliseEmail } from './subject.js';

// Pure rewriting of what we hold about a person, used by the erasure and by
// the webhook intake once someone is erased. Allow-lists, not deny-lists: a
// field Cal.com adds tomorrow is dropped rather than kept by accident.

/** Which emails are erased and what stands in for each. */
export interface ErasedSet {
  has(email: string): boolean;
  placeholder(email: string): string;
}

/** Payload fields of a booking delivery that never hold attendee data: times, status and identifiers. */
const BOOKING_KEEP = [
  'uid', 'bookingId', 'type', 'eventTitle', 'length', 'startTime', 'endTime', 'status', 'eventTypeId',
  'rescheduleUid', 'rescheduleId', 'rescheduleStartTime', 'rescheduleEndTime', 'bookingUid',
  // The flat scheduled meeting body's booking id and creation time, and the calendar identity of a reschedule.
  'id', 'createdAt', 'iCalUID', 'iCalSequence', 'requiresConfirmation',
] as const;

/** Marks a body we rewrote, so an export or a rebuild knows the original is gone. */
export const PSEUDONYMISED_MARK = 'calbridgePseudonymised';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function mentions(value: unknown, emails: string[]): boolean {
  const text = JSON.stringify(value ?? null).toLowerCase();
  return emails.some((e) => text.includes(e));
}

/** Calbridge's own metadata keys survive (they name the tenant or session, never the person); everything else is free text and goes. */
function keptMetadata(metadata: unknown, emails: string[]): Record<string, unknown> | null {
  if (!isObject(metadata)) return null;
  const kept = Object.entries(metadata).filter(
    ([k, v]) => k.startsWith('calbridge_') && !emails.some((e) => String(v).toLowerCase().includes(e)),
  );
  return kept.length > 0 ? Object.fromEntries(kept) : null;
}

/** An attendee as kept: the erased person becomes their placeholder; others keep only name, email, time zone and no-show. */
function pseudonymAttendee(a: Record<string, unknown>, erased: ErasedSet): Record<string, unknown> {
  const email = typeof a.email === 'string' ? a.email : '';
  const noShow = typeof a.noShow === 'boolean' ? { noShow: a.noShow } : {};
  if (erased.has(email)) return { name: null, email: erased.placeholder(email), timeZone: null, ...noShow };
  return { name: a.name ?? null, email, timeZone: a.timeZone ?? null, ...noShow };
}

function pseudonymOrganizer(o: unknown, erased: ErasedSet): Record<string, unknown> | null {
  if (!isObject(o)) return null;
  const email = typeof o.email === 'string' ? o.email : null;
  if (email && erased.has(email)) return { id: null, name: null, email: erased.placeholder(email), username: null, timeZone: null };
  return { id: o.id ?? null, name: o.name ?? null, email, username: o.username ?? null, timeZone: o.timeZone ?? null };
}

/**
 * A Cal.com delivery body rewritten without the erased people's data: the
 * envelope, the booking's identifiers, times and status, attendees with the
 * erased ones replaced, the organizer, and Calbridge's metadata keys. Form
 * answers, notes, titles, locations and everything else are dropped.
 * `emails` are the erased addresses, normalised.
 */
export function pseudonymiseDelivery(body: unknown, erased: ErasedSet, emails: string[]): Record<string, unknown> {
  const env = isObject(body) ? body : {};
  // MEETING_STARTED / MEETING_ENDED are flat: the booking sits beside triggerEvent (scheduleTrigger.ts).
  const flat = !isObject(env.payload);
  const payload = isObject(env.payload) ? env.payload : env;
  const out: Record<string, unknown> = {};
  for (const k of BOOKING_KEEP) if (k in payload && !mentions(payload[k], emails)) out[k] = payload[k];
  if (Array.isArray(payload.attendees)) {
    out.attendees = payload.attendees.filter(isObject).map((a) =>
      // A no-show delivery's attendees are {email, noShow} only.
      'noShow' in a && !('name' in a) ? { email: erased.has(String(a.email)) ? erased.placeholder(String(a.email)) : a.email, noShow: a.noShow } : pseudonymAttendee(a, erased),
    );
  }
  if ('organizer' in payload) out.organizer = pseudonymOrganizer(payload.organizer, erased);
  const metadata = keptMetadata(payload.metadata, emails);
  if (metadata) out.metadata = metadata;
  const triggerEvent = typeof env.triggerEvent === 'string' ? env.triggerEvent : 'UNKNOWN';
  const createdAt = typeof env.createdAt === 'string' ? env.createdAt : null;
  if (flat) return { ...out, triggerEvent, createdAt, [PSEUDONYMISED_MARK]: true };
  return { triggerEvent, createdAt, payload: out, [PSEUDONYMISED_MARK]: true };
}

/** A booking row's personal columns rewritten the same way; time, status and identifiers are not touched. */
export function pseudonymiseBookingColumns(
  b: { attendees: Attendee[]; organizer: Organizer | null; metadata: Record<string, unknown> | null },
  erased: ErasedSet,
  emails: string[],
): { attendees: Attendee[]; attendeeEmails: string[]; organizer: Organizer | null; metadata: Record<string, unknown> | null } {
  const attendees = b.attendees.map((a) => pseudonymAttendee(a as unknown as Record<string, unknown>, erased) as unknown as Attendee);
  return {
    attendees,
    attendeeEmails: [...new Set(attendees.map((a) => normaliseEmail(a.email)))],
    organizer: pseudonymOrganizer(b.organizer, erased) as Organizer | null,
    metadata: keptMetadata(b.metadata, emails),
  };
}

/** Every email-shaped string in a text (a raw body), normalised; used to recognise erased people in deliveries of any shape. */
export function emailsIn(text: string): string[] {
  // Linear in the text: expand around each '@' rather than letting a regex try every start
  // position (a 300 KB run of letters without '@' took minutes with /[…]+@…/g).
  const found: string[] = [];
  const local = /[A-Za-z0-9._%+'-]/;
  const domain = /[A-Za-z0-9.-]/;
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 320 && local.test(text[start - 1]!)) start -= 1;
    let end = at + 1;
    while (end < text.length && end - at < 320 && domain.test(text[end]!)) end += 1;
    const m = /^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+/.exec(text.slice(start, end));
    if (m && start < at) found.push(m[0]);
  }
  return [...new Set(found.map(normaliseEmail))];
}
