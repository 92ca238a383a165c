import { CALBRIDGE_TENANT_METADATA_KEY, type NativeBookingRequest, type NativeBookingResponse, type SlotsQuery, type SlotsResponse } from '@calbridge/shared';
import { applyBookingEvent } from '../bookings/bookings.projection.js';
import type { AppContext } from '../context.js';
import { createSlugCache } from '../db/slug-cache.js';
import { sha256 } from '../crypto/tokens.js';
import { CalcomBadResponse, CalcomNotConnected, CalcomUnauthorized, IdempotencyKeyReused } from './calcom.errors.js';
import type { TenantRecord } from '../tenants/tenants.service.js';
import type { CalcomClient } from './client.js';
import * as connections from './connections.repository.js';
import * as repo from './native-booking.repository.js';
import { linkNativeBooking, nativeBookingsOfSession } from '../bookings/consent-links.js';
import { NativeSessionLimit, TooManyGuests } from './native-booking.errors.js';
import { eventFromBookingOutput } from './reconciliation.service.js';
import type { TenantCredentials, TokenVault } from './token-vault.js';
import { toCalcomBookingLanguage } from './booking-language.js';

/** Native bookings one widget session may make; a visitor books once, perhaps twice. */
const NATIVE_BOOKINGS_PER_SESSION = 2;
/** Guests one native booking may invite (Cal.com allows more; the widget's form offers a few). */
const NATIVE_MAX_GUESTS = 3;

/** The widget session a native booking is made under: the consent receipt it is linked to. */
export interface SessionLink {
  sessionId: string;
  consentReceiptId: string;
}

/** Native booking mode: the widget's own slot picker and form, talking to Cal.com through us. */
export function createNativeBooking(ctx: Pick<AppContext, 'db' | 'clock' | 'changes'>, deps: { calcom: CalcomClient; vault: TokenVault }) {
  const { db, clock } = ctx;

  async function username(tenantId: string): Promise<string> {
    const c = await db.withTenant(tenantId, (tx) => connections.findConnection(tx, tenantId));
    if (!c) throw new CalcomNotConnected();
    return c.calcomUsername;
  }

  // The account whose public free times the picker shows, per tenant: kept while the change feed is
  // live and dropped on every instance when the connection's kind, status or account changes
  // (migrations 0017 and 0022), so the session answer's first page waits for no lookup. Always a
  // value (null: not connected), since a connection's insert names no slug. Bookings read it live.
  const accountById = createSlugCache({
    changes: ctx.changes,
    load: async (tenantId) => {
      const c = await db.withTenant(tenantId, (tx) => connections.findConnection(tx, tenantId));
      return { tenantId, username: c?.calcomUsername ?? null };
    },
    tenantId: (v: { tenantId: string }) => v.tenantId,
  });
  async function slotsUsername(tenantId: string): Promise<string> {
    const username = (await accountById.get(tenantId))?.username;
    if (!username) throw new CalcomNotConnected();
    return username;
  }

  /**
   * Calls for free times in flight, by tenant and query: a second asker of the same page joins
   * the first call instead of making another (the session answer that stopped waiting for its
   * first page, then the picker asking for it: decision 0027). Not a cache: an entry lives for
   * one call only, so nothing is ever served stale; it is the tenant's own (its id is in the key).
   */
  const slotsInFlight = new Map<string, Promise<SlotsResponse>>();

  async function fetchSlots(user: Promise<string>, q: SlotsQuery): Promise<SlotsResponse> {
    const data = await deps.calcom.slots.list(
      { kind: 'none' },
      { eventTypeSlug: q.eventType, username: await user, start: q.start, end: q.end, timeZone: q.timeZone },
    );
    const days = Object.keys(data)
      .sort()
      .map((date) => ({ date, slots: data[date]!.map((s) => ({ start: s.start, end: s.end })) }));
    return { eventType: q.eventType, timeZone: q.timeZone, days };
  }

  /**
   * Free slots grouped by day in the visitor's time zone. `admitted`: Cal.com is asked only once
   * it resolves (a session request's rate limit and consent check); our own lookup of the
   * tenant's Cal.com user runs meanwhile, so it is off the session answer's path. A rejection
   * rejects this call and asks Cal.com nothing.
   */
  function slots(tenant: TenantRecord, q: SlotsQuery, admitted?: Promise<unknown>): Promise<SlotsResponse> {
    if (!admitted) return joinOrCall(tenant, q, () => slotsUsername(tenant.id));
    const user = slotsUsername(tenant.id);
    // Not awaited when the admission fails first: handled here, so it is never an unhandled rejection.
    user.catch(() => undefined);
    return admitted.then(() => joinOrCall(tenant, q, () => user));
  }

  function joinOrCall(tenant: TenantRecord, q: SlotsQuery, user: () => Promise<string>): Promise<SlotsResponse> {
    const key = JSON.stringify([tenant.id, q.eventType, q.start, q.end, q.timeZone]);
    const running = slotsInFlight.get(key);
    if (running) return running;
    const call = fetchSlots(user(), q).finally(() => slotsInFlight.delete(key));
    slotsInFlight.set(key, call);
    return call;
  }

  /**
   * Books once per Idempotency-Key: the key is claimed in the transaction that
   * calls Cal.com, so a double click waits for the first click's answer and
   * gets the same one. A failed call rolls the claim back, so a retry can try again.
   *
   * Credentials are fetched before the transaction opens and never inside it: the
   * vault uses connections of its own (row lock, refresh), and the embedded database
   * serves one transaction at a time, so asking it from inside would wait forever.
   * A 401 from Cal.com rolls back, refreshes once outside, and tries again.
   */
  async function book(
    tenant: TenantRecord,
    key: string,
    input: NativeBookingRequest,
    link: SessionLink,
  ): Promise<{ replayed: boolean; result: NativeBookingResponse }> {
    if ((input.guests?.length ?? 0) > NATIVE_MAX_GUESTS) throw new TooManyGuests(NATIVE_MAX_GUESTS);
    const hash = sha256(JSON.stringify(input));
    const user = await username(tenant.id);
    const language = toCalcomBookingLanguage(input.attendee.language);
    const attempt = (auth: TenantCredentials['auth']) =>
      db.withTenant(tenant.id, async (tx) => {
        if (!(await repo.claimKey(tx, tenant.id, key, hash))) {
          const prior = await repo.findRequest(tx, key);
          if (!prior || !prior.requestHash.equals(hash)) throw new IdempotencyKeyReused();
          return { replayed: true, result: prior.response as NativeBookingResponse };
        }
        // One session's bookings are counted under a lock, so parallel clicks with new keys cannot pass the cap together.
        if ((await nativeBookingsOfSession(tx, link.sessionId)) >= NATIVE_BOOKINGS_PER_SESSION) throw new NativeSessionLimit(NATIVE_BOOKINGS_PER_SESSION);
        const booking = await deps.calcom.bookings.create(auth, {
          start: new Date(input.start).toISOString(),
          eventTypeSlug: input.eventType,
          username: user,
          attendee: {
            name: input.attendee.name,
            email: input.attendee.email,
            timeZone: input.attendee.timeZone,
            // Only a code from Cal.com's BookingLanguage enum: anything else makes Cal.com refuse the booking.
            ...(language ? { language } : {}),
          },
          ...(input.guests?.length ? { guests: input.guests } : {}),
          ...(input.notes ? { bookingFieldsResponses: { notes: input.notes } } : {}),
          // The same keys the embed modes send, so the intake and reports tell our bookings apart.
          metadata: { [CALBRIDGE_TENANT_METADATA_KEY]: tenant.slug, cb_session: link.sessionId, cb_receipt: link.consentReceiptId, cb_mode: 'native' },
        });
        // A booking just made has its event type (only a deleted one comes back null).
        const eventTypeId = booking.eventTypeId ?? booking.eventType?.id;
        if (eventTypeId === undefined || eventTypeId === null) throw new CalcomBadResponse(new Error('the new booking has no event type'));
        // Into our bookings at once, as the event reconciliation would record (the webhook follows and deduplicates).
        await applyBookingEvent(tx, tenant.id, eventFromBookingOutput(booking), clock.now());
        // Our server made this booking under the session: that is proof enough to link its consent.
        await linkNativeBooking(tx, tenant.id, booking.uid, link, clock.now());
        const result: NativeBookingResponse = { uid: booking.uid, status: booking.status, start: booking.start, end: booking.end, eventTypeId };
        await repo.completeRequest(tx, key, booking.uid, result);
        return { replayed: false, result };
      });
    const creds = await deps.vault.credentialsFor(tenant.id);
    try {
      return await attempt(creds.auth);
    } catch (err) {
      // Only a 401 says the token itself was refused (as in the vault's withCredentials).
      if (!(err instanceof CalcomUnauthorized) || (err.cause as { status?: number } | undefined)?.status !== 401) throw err;
      return attempt((await deps.vault.refreshAfterRejection(tenant.id, creds.tokenVersion)).auth);
    }
  }

  return { slots, book };
}

export type NativeBooking = ReturnType<typeof createNativeBooking>;
