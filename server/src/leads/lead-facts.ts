import type { BookingFacts, LeadFacts } from './scoring.js';
import type { LeadBookingRow, ReceiptRecord } from './leads.repository.js';

/**
 * Turns stored bookings into scoring facts: answers and the event slug from
 * the latest Cal.com delivery of each booking, UTM from our widget's booking
 * metadata (`cb_utm_*`), Cal.com-style `utm_*` metadata, or the consent
 * receipt's page context, in that order, and the consent receipt named by the
 * metadata (`cb_receipt`) or by the widget's observed booking.
 */

export const UTM_PARAMS = ['source', 'medium', 'campaign', 'term', 'content'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The consent receipt id a booking points to, if any. */
export function receiptIdOf(row: Pick<LeadBookingRow, 'metadata' | 'observedReceiptId'>): string | null {
  const fromMetadata = row.metadata?.cb_receipt;
  if (typeof fromMetadata === 'string' && UUID.test(fromMetadata)) return fromMetadata.toLowerCase();
  return row.observedReceiptId;
}

interface Delivered {
  answers: Record<string, unknown>;
  eventSlug: string | null;
}

function readBody(body: string | null): Delivered {
  if (!body) return { answers: {}, eventSlug: null };
  try {
    const payload = (JSON.parse(body) as { payload?: Record<string, unknown> }).payload ?? {};
    const responses = payload.responses ?? payload.bookingFieldsResponses;
    const answers = responses && typeof responses === 'object' && !Array.isArray(responses) ? { ...(responses as Record<string, unknown>) } : {};
    return { answers, eventSlug: typeof payload.type === 'string' ? payload.type : null };
  } catch {
    return { answers: {}, eventSlug: null };
  }
}

/** UTM of one booking, by the precedence above. */
export function utmOf(row: Pick<LeadBookingRow, 'metadata'>, receipt: ReceiptRecord | undefined): Record<string, string> {
  const utm: Record<string, string> = {};
  for (const p of UTM_PARAMS) {
    const v = row.metadata?.[`cb_utm_${p}`] ?? row.metadata?.[`utm_${p}`] ?? receipt?.utm?.[p];
    if (typeof v === 'string' && v !== '') utm[p] = v;
  }
  return utm;
}

export interface EnrichedBooking {
  row: LeadBookingRow;
  facts: BookingFacts;
  receipt: ReceiptRecord | undefined;
}

export function enrich(email: string, rows: LeadBookingRow[], receipts: ReceiptRecord[]): { facts: LeadFacts; bookings: EnrichedBooking[] } {
  const byId = new Map(receipts.map((r) => [r.id, r]));
  const bookings = rows.map((row): EnrichedBooking => {
    const receiptId = receiptIdOf(row);
    const receipt = receiptId ? byId.get(receiptId) : undefined;
    const delivered = readBody(row.body);
    const me = row.attendees.find((a) => a.email.toLowerCase() === email);
    return {
      row,
      receipt,
      facts: {
        uid: row.uid,
        status: row.status,
        eventTypeId: row.eventTypeId,
        eventSlug: delivered.eventSlug,
        replaced: row.rescheduledToUid !== null,
        noShow: me?.noShow === true,
        answers: delivered.answers,
        utm: utmOf(row, receipt),
      },
    };
  });
  return { facts: { email, bookings: bookings.map((b) => b.facts) }, bookings };
}
