// The admin read side of bookings. The projection (applying Cal.com's deliveries) is in
// bookings.projection.ts, the views every reader shares in bookings.views.ts.
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { CursorTime, decodeCursor, encodeCursor } from '../http/cursor.js';
import { BookingNotFound } from './bookings.errors.js';
import * as repo from './bookings.repository.js';
import type { Attendee, BookingEventRecord, BookingRecord, BookingStatus, Organizer } from './bookings.columns.js';
import type { BookingConsentRecord } from './bookings.repository.js';

export type { BookingRecord, BookingEventRecord, BookingStatus, BookingConsentRecord, Attendee, Organizer };

function encodeBookingCursor(b: BookingRecord): string {
  return encodeCursor([b.startTime?.toISOString() ?? null, b.uid]);
}

const BookingCursor = z.tuple([CursorTime.nullable(), z.string().min(1).max(200)]);

function decodeBookingCursor(cursor: string): { startTime: Date | null; uid: string } {
  const [startTime, uid] = decodeCursor(cursor, BookingCursor);
  return { startTime, uid };
}

/** The admin read side of bookings. */
export function createBookingsService(ctx: Pick<AppContext, 'db'>) {
  const { db } = ctx;

  async function list(
    tenantId: string,
    q: { status?: BookingStatus; from?: string; to?: string; email?: string; limit: number; cursor?: string },
  ): Promise<{ data: BookingRecord[]; nextCursor: string | null }> {
    const rows = await db.withTenant(tenantId, (tx) =>
      repo.listBookings(tx, {
        status: q.status ?? null,
        from: q.from ? new Date(q.from) : null,
        to: q.to ? new Date(q.to) : null,
        email: q.email?.toLowerCase() ?? null,
        after: q.cursor ? decodeBookingCursor(q.cursor) : null,
        limit: q.limit + 1,
      }),
    );
    const data = rows.slice(0, q.limit);
    return { data, nextCursor: rows.length > q.limit ? encodeBookingCursor(data.at(-1)!) : null };
  }

  async function get(
    tenantId: string,
    uid: string,
  ): Promise<{ booking: BookingRecord; events: BookingEventRecord[]; consent: BookingConsentRecord | null }> {
    const found = await db.withTenant(tenantId, async (tx) => {
      const booking = await repo.findBooking(tx, uid);
      if (!booking) return null;
      return { booking, events: await repo.listEvents(tx, uid), consent: await repo.findBookingConsent(tx, uid) };
    });
    if (!found) throw new BookingNotFound();
    return found;
  }

  return { list, get };
}

export type BookingsService = ReturnType<typeof createBookingsService>;
