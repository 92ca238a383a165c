import type { Tx } from '../db/db.js';

export type ConsentLinkKind = 'booking_nonce' | 'native_booking';

/** Links a booking to a consent receipt; the first proven link stays (a proof cannot be forged, so none is better than another). */
export async function insertConsentLink(
  tx: Tx,
  l: { tenantId: string; bookingUid: string; consentReceiptId: string; sessionId: string; linkedBy: ConsentLinkKind; linkedAt: Date },
): Promise<boolean> {
  const r = await tx.query(
    `INSERT INTO booking_consent_links (tenant_id, booking_uid, consent_receipt_id, session_id, linked_by, linked_at)
     SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM bookings WHERE tenant_id = $1 AND uid = $2)
     ON CONFLICT (tenant_id, booking_uid) DO NOTHING`,
    [l.tenantId, l.bookingUid, l.consentReceiptId, l.sessionId, l.linkedBy, l.linkedAt],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function countNativeLinksOfSession(tx: Tx, sessionId: string): Promise<number> {
  const r = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM booking_consent_links WHERE session_id = $1 AND linked_by = 'native_booking'`, [sessionId]);
  return r.rows[0]!.n;
}

/** Holds a per-session lock to the transaction's end, so a count taken under it stays true (bounded by lock_timeout, db.ts). */
export async function lockNativeBookingsOfSession(tx: Tx, sessionId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [`native:${sessionId}`]);
}
