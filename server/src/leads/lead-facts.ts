import type { BookingFacts, LeadFacts } from './scoring.js';
import type { LeadBookingRow, ReceiptRecord } from './leads.repository.js';

/**
 * Turns stored bookings into scoring facts: answers and the event slug from
 * the latest Cal.com delivery of each booking, and attribution (the consent
 * receipt, so marketing consent, and UTM values) only through a proven link
 * (bookings/consent-links.ts: the booking's metadata carried its session's
 * nonce, or our server made it). Metadata that merely names a receipt or UTM
 * values is the booker's word and attributes nothing (issue 13, finding 1).
 */

const UTM_PARAMS = ['source', 'medium', 'campaign', 'term', 'content'] as const;

/** The consent receipt a booking is proven to come from, if any. */
export function receiptIdOf(row: Pick<LeadBookingRow, 'linkedReceiptId'>): string | null {
  return row.linkedReceiptId;
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

/**
 * UTM of one booking: only when the booking is proven to come from a widget session, from
 * that session's receipt, then the widget's `cb_utm_*` and Cal.com's `utm_*` metadata of the
 * same (proven) booking. An unproven booking has no attribution.
 */
function utmOf(row: Pick<LeadBookingRow, 'metadata'>, receipt: ReceiptRecord | undefined): Record<string, string> {
  const utm: Record<string, string> = {};
  if (!receipt) return utm;
  for (const p of UTM_PARAMS) {
    const v = receipt.utm?.[p] ?? row.metadata?.[`cb_utm_${p}`] ?? row.metadata?.[`utm_${p}`];
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
