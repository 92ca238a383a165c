import type { OutboundFetch } from './crm.pinned-fetch.js';
import { failed, fromResponse, fromThrown, sent, type SendResult } from './crm.send.js';

/**
 * HubSpot as a destination, through its public CRM API v3 with a private-app
 * access token: the contact is found by email (search) and updated, or
 * created; a booking becomes a meeting engagement associated with the
 * contact (association type 200, meeting → contact). A booking's meeting is
 * recognised by `hs_meeting_external_url`, the Cal.com booking page, so a
 * retried message updates the meeting it already created instead of adding
 * another, and a cancellation or reschedule finds it.
 *
 * Only HubSpot's default properties are written (email, firstname, lastname,
 * the meeting's fields): a portal without custom properties accepts them.
 *
 * The contact's HubSpot id is recorded per lead ({@link HubspotContactStore}),
 * because `subject.erased` carries no email: it becomes a GDPR delete of that
 * contact id (`POST /crm/v3/objects/contacts/gdpr-delete { objectId }`), after
 * which the record is dropped.
 */

/** Where the HubSpot contact id of the message's lead is kept (bound to one lead and destination by the caller). */
export interface HubspotContactStore {
  /** The contact id recorded for the lead, if any. */
  get(): Promise<string | null>;
  /** Records the contact a message of the lead created or updated. */
  remember(contactId: string): Promise<void>;
  /** Drops the record after HubSpot deleted the contact. */
  forget(contactId: string): Promise<void>;
}

/** For messages without a lead: nothing to remember. */
const noContactStore: HubspotContactStore = { get: async () => null, remember: async () => undefined, forget: async () => undefined };

/** HubSpot-defined association type: meeting → contact. */
export const MEETING_TO_CONTACT = 200;

interface HubspotCall {
  fetch: OutboundFetch;
  base: string;
  token: string;
  /** The attempt's deadline, shared by all its calls: the lease bounds the whole attempt, not each call. */
  signal: AbortSignal;
  now: Date;
}

class CallFailed extends Error {
  constructor(readonly result: SendResult) {
    super(result.error ?? 'hubspot call failed');
  }
}

async function call<T>(c: HubspotCall, method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<{ status: number; json: T | null }> {
  let res: Response;
  try {
    res = await c.fetch(`${c.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal: c.signal,
    });
  } catch (err) {
    throw new CallFailed(fromThrown(err));
  }
  if ((res.status >= 200 && res.status < 300) || okStatuses.includes(res.status)) {
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as T) : null };
  }
  const r = await fromResponse(res, c.now);
  // 410 from HubSpot means a removed endpoint, not a receiver that is gone; it must not disable the destination silently.
  throw new CallFailed({ ...r, gone: false });
}

interface SearchResult {
  total: number;
  results: { id: string; properties: Record<string, string | null> }[];
}

async function findContact(c: HubspotCall, email: string): Promise<string | null> {
  const { json } = await call<SearchResult>(c, 'POST', '/crm/v3/objects/contacts/search', {
    filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }],
    properties: ['email'],
    limit: 1,
  });
  return json?.results[0]?.id ?? null;
}

async function upsertContact(c: HubspotCall, props: Record<string, string>): Promise<string> {
  const id = await findContact(c, props.email!);
  if (id) {
    await call(c, 'PATCH', `/crm/v3/objects/contacts/${encodeURIComponent(id)}`, { properties: props });
    return id;
  }
  const created = await call<{ id: string }>(c, 'POST', '/crm/v3/objects/contacts', { properties: props }, [409]);
  if (created.status === 409) {
    // Created meanwhile (another message, or an earlier attempt whose answer was lost).
    const again = await findContact(c, props.email!);
    if (!again) throw new CallFailed(failed('http_409', 409));
    await call(c, 'PATCH', `/crm/v3/objects/contacts/${encodeURIComponent(again)}`, { properties: props });
    return again;
  }
  return created.json!.id;
}

async function findMeeting(c: HubspotCall, externalUrl: string): Promise<string | null> {
  const { json } = await call<SearchResult>(c, 'POST', '/crm/v3/objects/meetings/search', {
    filterGroups: [{ filters: [{ propertyName: 'hs_meeting_external_url', operator: 'EQ', value: externalUrl }] }],
    properties: ['hs_meeting_external_url', 'hs_meeting_outcome'],
    limit: 1,
  });
  return json?.results[0]?.id ?? null;
}

async function upsertMeeting(c: HubspotCall, contactId: string, props: Record<string, string>): Promise<void> {
  const existing = await findMeeting(c, props.hs_meeting_external_url!);
  if (existing) {
    await call(c, 'PATCH', `/crm/v3/objects/meetings/${encodeURIComponent(existing)}`, { properties: props });
    return;
  }
  await call(c, 'POST', '/crm/v3/objects/meetings', {
    properties: props,
    associations: [{ to: { id: contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: MEETING_TO_CONTACT }] }],
  });
}

async function setMeetingOutcome(c: HubspotCall, externalUrl: string, outcome: string): Promise<void> {
  const id = await findMeeting(c, externalUrl);
  if (id) await call(c, 'PATCH', `/crm/v3/objects/meetings/${encodeURIComponent(id)}`, { properties: { hs_meeting_outcome: outcome } });
}

function contactProps(person: { email?: unknown; name?: unknown }): Record<string, string> {
  const props: Record<string, string> = { email: String(person.email) };
  const name = typeof person.name === 'string' ? person.name.trim() : '';
  if (name) {
    const i = name.indexOf(' ');
    props.firstname = i < 0 ? name : name.slice(0, i);
    if (i > 0) props.lastname = name.slice(i + 1);
  }
  return props;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});

/** The Cal.com booking page: the meeting's external URL and its identity in HubSpot. */
export const bookingPageUrl = (calAppUrl: string, uid: string) => `${calAppUrl}/booking/${encodeURIComponent(uid)}`;

/** Hands one message (`{ type, timestamp, data }`) to HubSpot. */
export async function sendToHubspot(opts: {
  fetch: OutboundFetch;
  baseUrl: string;
  token: string;
  payload: Record<string, unknown>;
  calAppUrl: string;
  now: Date;
  /** The attempt's deadline (see {@link HubspotCall.signal}). */
  signal: AbortSignal;
  /** The lead's recorded contact id; default: none kept. */
  contacts?: HubspotContactStore;
}): Promise<SendResult> {
  const store = opts.contacts ?? noContactStore;
  // A store failure is a failed attempt (retried), never a thrown job.
  const stored = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch {
      throw new CallFailed(failed('contact_store_failed'));
    }
  };
  const c: HubspotCall = { fetch: opts.fetch, base: opts.baseUrl.replace(/\/$/, ''), token: opts.token, signal: opts.signal, now: opts.now };
  const type = String(opts.payload.type);
  const data = obj(opts.payload.data);
  const lead = obj(data.lead);
  const booking = obj(data.booking);
  // A payload scrubbed by an erasure (or one without a person) has nothing HubSpot could match on.
  if (type !== 'subject.erased' && typeof lead.email !== 'string') return sent(204);
  try {
    switch (type) {
      case 'lead.created':
      case 'lead.updated': {
        const contactId = await upsertContact(c, contactProps(lead));
        await stored(() => store.remember(contactId));
        break;
      }
      case 'booking.created':
      case 'booking.rescheduled': {
        const contactId = await upsertContact(c, contactProps({ email: lead.email, name: lead.name ?? obj(booking.attendee).name }));
        await stored(() => store.remember(contactId));
        const text = (v: unknown, fallback: string) => (typeof v === 'string' || typeof v === 'number' ? String(v) : fallback);
        const start = text(booking.startTime, String(opts.payload.timestamp));
        const props: Record<string, string> = {
          hs_timestamp: start,
          hs_meeting_title: text(booking.title, 'Meeting'),
          hs_meeting_start_time: start,
          hs_meeting_end_time: text(booking.endTime, start),
          hs_meeting_outcome: 'SCHEDULED',
          hs_meeting_external_url: bookingPageUrl(opts.calAppUrl, String(booking.uid)),
        };
        await upsertMeeting(c, contactId, props);
        if (type === 'booking.rescheduled' && typeof booking.rescheduledFromUid === 'string') {
          await setMeetingOutcome(c, bookingPageUrl(opts.calAppUrl, booking.rescheduledFromUid), 'RESCHEDULED');
        }
        break;
      }
      case 'booking.cancelled':
        await setMeetingOutcome(c, bookingPageUrl(opts.calAppUrl, String(booking.uid)), 'CANCELED');
        break;
      case 'subject.erased': {
        // By the id recorded when the contact was written: the event names no email. 404: already gone.
        const contactId = await stored(() => store.get());
        if (contactId) {
          await call(c, 'POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: contactId }, [404]);
          await stored(() => store.forget(contactId));
        }
        break;
      }
      default:
        break;
    }
    return sent(200);
  } catch (err) {
    if (err instanceof CallFailed) return err.result;
    return failed('bad_response');
  }
}
