import { z } from 'zod';
import { applyBookingEvent } from '../bookings/bookings.service.js';
import type { AppContext } from '../context.js';
import { sha256 } from '../crypto/tokens.js';
import { CalcomNotConnected, IdempotencyKeyReused } from '../errors.js';
import type { TenantRecord } from '../tenants/tenants.service.js';
import type { CalcomClient } from './client.js';
import * as connections from './connections.repository.js';
import * as repo from './native-booking.repository.js';
import { eventFromBookingOutput } from './reconciliation.service.js';
import type { TokenVault } from './token-vault.js';

const timeZone = z.string().min(1).max(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone');
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'an event type slug');
const instant = z.iso.datetime({ offset: true });

/** `GET /v1/widget/:tenant/slots` query. */
export const SlotsQuery = z.strictObject({
  eventType: slug,
  start: instant,
  end: instant,
  timeZone,
});
export type SlotsQuery = z.infer<typeof SlotsQuery>;

/** `POST /v1/widget/:tenant/bookings` body. */
export const NativeBookingRequest = z.strictObject({
  eventType: slug,
  start: instant,
  attendee: z.strictObject({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(254),
    timeZone,
    language: z.string().regex(/^[a-z]{2}(-[A-Za-z0-9]{2,3})?$/).optional(),
  }),
  guests: z.array(z.email().max(254)).max(10).optional(),
  notes: z.string().max(2000).optional(),
});
export type NativeBookingRequest = z.infer<typeof NativeBookingRequest>;

/** What the widget gets back: no attendee data, so a replayed answer reveals nothing new. */
export interface NativeBookingResult {
  uid: string;
  status: string;
  start: string;
  end: string;
  eventTypeId: number;
}

/** Native booking mode: the widget's own slot picker and form, talking to Cal.com through us. */
export function createNativeBooking(ctx: Pick<AppContext, 'db' | 'clock'>, deps: { calcom: CalcomClient; vault: TokenVault }) {
  const { db, clock } = ctx;

  async function username(tenantId: string): Promise<string> {
    const c = await db.withTenant(tenantId, (tx) => connections.findConnection(tx, tenantId));
    if (!c) throw new CalcomNotConnected();
    return c.calcomUsername;
  }

  /** Free slots grouped by day in the visitor's time zone. */
  async function slots(tenant: TenantRecord, q: SlotsQuery) {
    const data = await deps.calcom.slots.list(
      { kind: 'none' },
      { eventTypeSlug: q.eventType, username: await username(tenant.id), start: q.start, end: q.end, timeZone: q.timeZone },
    );
    const days = Object.keys(data)
      .sort()
      .map((date) => ({ date, slots: data[date]!.map((s) => ({ start: s.start, end: s.end })) }));
    return { eventType: q.eventType, timeZone: q.timeZone, days };
  }

  /**
   * Books once per Idempotency-Key: the key is claimed in the transaction that
   * calls Cal.com, so a double click waits for the first click's answer and
   * gets the same one. A failed call rolls the claim back, so a retry can try again.
   */
  async function book(tenant: TenantRecord, key: string, input: NativeBookingRequest): Promise<{ replayed: boolean; result: NativeBookingResult }> {
    const hash = sha256(JSON.stringify(input));
    const user = await username(tenant.id);
    return db.withTenant(tenant.id, async (tx) => {
      if (!(await repo.claimKey(tx, tenant.id, key, hash))) {
        const prior = await repo.findRequest(tx, key);
        if (!prior || !prior.requestHash.equals(hash)) throw new IdempotencyKeyReused();
        return { replayed: true, result: prior.response as NativeBookingResult };
      }
      const booking = await deps.vault.withCredentials(tenant.id, ({ auth }) =>
        deps.calcom.bookings.create(auth, {
          start: new Date(input.start).toISOString(),
          eventTypeSlug: input.eventType,
          username: user,
          attendee: {
            name: input.attendee.name,
            email: input.attendee.email,
            timeZone: input.attendee.timeZone,
            ...(input.attendee.language ? { language: input.attendee.language } : {}),
          },
          ...(input.guests?.length ? { guests: input.guests } : {}),
          ...(input.notes ? { bookingFieldsResponses: { notes: input.notes } } : {}),
          metadata: { calbridge: 'native' },
        }),
      );
      // Into our bookings at once, as the event reconciliation would record (the webhook follows and deduplicates).
      await applyBookingEvent(tx, tenant.id, eventFromBookingOutput(booking), clock.now());
      const result: NativeBookingResult = { uid: booking.uid, status: booking.status, start: booking.start, end: booking.end, eventTypeId: booking.eventTypeId };
      await repo.completeRequest(tx, key, booking.uid, result);
      return { replayed: false, result };
    });
  }

  return { slots, book };
}

export type NativeBooking = ReturnType<typeof createNativeBooking>;
