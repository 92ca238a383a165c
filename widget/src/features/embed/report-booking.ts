import { createSession, observeBooking, pageContext, type ConsentChoice, type Session } from '../../entities/session/session.js';
import type { CalbridgeBookedDetail } from '../../shared/events/calbridge-booked.js';
import { toWidgetError, type WidgetError } from '../../shared/lib/widget-error.js';
import type { BookingSuccessfulV2Data } from '@calbridge/shared';

const ISO = /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/i;

export interface ReportContext {
  server: string;
  tenant: string;
  /**
   * The session minted at the consent click. The frame starts in parallel with it, so a
   * booking can in principle arrive before the answer: the report waits for it.
   */
  session: () => Promise<Session>;
  consent: ConsentChoice;
  nonce: string;
  eventType: string | null;
}

/**
 * Tells the server about a booking the frame reported (`POST …/bookings/observed`, Bearer
 * session). An expired session token is replaced first, with the same consent. Never throws:
 * the booking exists either way, so a failed report comes back as `error` beside the detail.
 * A reschedule is reported like a booking (its new uid); `rescheduledFromUid` is the booking
 * this frame made before, when there was one (Cal.com's event does not name the old booking).
 */
export async function reportBooking(
  ctx: ReportContext,
  d: BookingSuccessfulV2Data,
  rescheduledFromUid?: string | null,
): Promise<{ detail: CalbridgeBookedDetail; error?: WidgetError }> {
  const detail: CalbridgeBookedDetail = {
    uid: d.uid,
    startTime: d.startTime ?? null,
    endTime: d.endTime ?? null,
    eventType: ctx.eventType,
    rescheduled: rescheduledFromUid !== undefined,
    rescheduledFromUid: rescheduledFromUid ?? null,
  };
  try {
    let session = await ctx.session();
    if (Date.parse(session.expiresAt) - 5_000 < Date.now())
      session = await createSession(ctx.server, ctx.tenant, {
        nonce: ctx.nonce,
        consent: ctx.consent,
        context: pageContext(location, document.referrer),
      });
    await observeBooking(ctx.server, ctx.tenant, session.token, {
      uid: d.uid,
      ...(d.startTime && ISO.test(d.startTime) ? { startTime: d.startTime } : {}),
      ...(d.endTime && ISO.test(d.endTime) ? { endTime: d.endTime } : {}),
      ...(d.eventTypeId !== undefined ? { eventTypeId: d.eventTypeId } : {}),
      ...(ctx.eventType ? { eventType: ctx.eventType } : {}),
      ...(d.status ? { status: d.status.slice(0, 40) } : {}),
    });
    return { detail };
  } catch (e) {
    return { detail, error: toWidgetError(e, 'observe_failed') };
  }
}
