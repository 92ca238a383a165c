import type { Tx } from '../db/db.js';
import { sessionProvenByMetadata } from '../sessions/session-proof.js';
import { countNativeLinksOfSession, insertConsentLink, lockNativeBookingsOfSession } from './consent-links.repository.js';

/**
 * The only two ways a consent receipt becomes linked to a booking (issue 13, finding 1):
 * the booking's own metadata proves it came through a widget session of this tenant
 * (`cb_nonce`, see sessions/session-proof.ts), or our server made the booking itself under
 * that session (native mode). A page's report (`bookings/observed`) and `cb_receipt` /
 * `cb_session` in metadata link nothing. Whichever of webhook and page report comes first,
 * the link is made when the booking (with its metadata) is applied.
 */

/** Links the booking to the session its metadata proves, if any. Call inside `db.withTenant(tenantId, …)`. */
export async function linkConsentByProof(tx: Tx, tenantId: string, uid: string, metadata: Record<string, unknown> | null, now: Date): Promise<boolean> {
  const proven = await sessionProvenByMetadata(tx, tenantId, metadata);
  if (!proven) return false;
  return insertConsentLink(tx, { tenantId, bookingUid: uid, ...proven, linkedBy: 'booking_nonce', linkedAt: now });
}

/** Links a booking our server just made through Cal.com under a widget session. */
export async function linkNativeBooking(tx: Tx, tenantId: string, uid: string, session: { sessionId: string; consentReceiptId: string }, now: Date): Promise<boolean> {
  return insertConsentLink(tx, { tenantId, bookingUid: uid, ...session, linkedBy: 'native_booking', linkedAt: now });
}

/** How many bookings our server made under a session, counted under a per-session lock held to the transaction's end (its wait bounded by the transaction's lock_timeout, db.ts). */
export async function nativeBookingsOfSession(tx: Tx, sessionId: string): Promise<number> {
  await lockNativeBookingsOfSession(tx, sessionId);
  return countNativeLinksOfSession(tx, sessionId);
}
