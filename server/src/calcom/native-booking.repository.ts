import type { Tx } from '../db/db.js';

/**
 * Claims an Idempotency-Key inside the caller's transaction. A concurrent
 * request with the same key blocks here until the first one commits or rolls
 * back; true means this request owns the key.
 */
export async function claimKey(tx: Tx, tenantId: string, key: string, requestHash: Buffer): Promise<boolean> {
  const r = await tx.query(
    `INSERT INTO calcom_booking_requests (tenant_id, idempotency_key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
    [tenantId, key, requestHash],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function findRequest(tx: Tx, key: string): Promise<{ requestHash: Buffer; response: unknown } | null> {
  const r = await tx.query<{ requestHash: Buffer; response: unknown }>(
    'SELECT request_hash AS "requestHash", response FROM calcom_booking_requests WHERE idempotency_key = $1',
    [key],
  );
  return r.rows[0] ?? null;
}

export async function completeRequest(tx: Tx, key: string, bookingUid: string, response: unknown): Promise<void> {
  await tx.query('UPDATE calcom_booking_requests SET booking_uid = $2, response = $3 WHERE idempotency_key = $1', [key, bookingUid, JSON.stringify(response)]);
}
