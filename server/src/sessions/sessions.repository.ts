import type { Tx } from '../db/db.js';

export interface ReceiptInput {
  tenantId: string;
  sessionId: string;
  consentVersion: string;
  consentTextSha256: string;
  purposes: string[];
  pageOrigin: string;
  pageUrl: string;
  referrer: string;
  utm: Record<string, string>;
  ipPrefix: string;
  userAgentFamily: string;
  createdAt: Date;
}

export async function insertReceipt(tx: Tx, r: ReceiptInput): Promise<{ id: string }> {
  const res = await tx.query<{ id: string }>(
    `INSERT INTO consent_receipts (tenant_id, session_id, consent_version, consent_text_sha256, purposes, page_origin,
       page_url, referrer, utm, ip_prefix, user_agent_family, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
    [r.tenantId, r.sessionId, r.consentVersion, r.consentTextSha256, r.purposes, r.pageOrigin, r.pageUrl, r.referrer, JSON.stringify(r.utm), r.ipPrefix, r.userAgentFamily, r.createdAt],
  );
  return res.rows[0]!;
}

/**
 * Counts one hit in a fixed window and returns the window's total. Runs in its own
 * transaction so refused requests still count; old windows of the tenant are pruned.
 */
export async function hit(tx: Tx, tenantId: string, bucket: string, windowStart: Date): Promise<number> {
  await tx.query('DELETE FROM widget_rate_limits WHERE tenant_id = $1 AND window_start < $2', [tenantId, new Date(windowStart.getTime() - 3_600_000)]);
  const res = await tx.query<{ hits: number }>(
    `INSERT INTO widget_rate_limits (tenant_id, bucket, window_start, hits) VALUES ($1, $2, $3, 1)
     ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET hits = widget_rate_limits.hits + 1
     RETURNING hits`,
    [tenantId, bucket, windowStart],
  );
  return res.rows[0]!.hits;
}

export interface ObservedInput {
  tenantId: string;
  uid: string;
  sessionId: string;
  consentReceiptId: string;
  startTime: string | null;
  endTime: string | null;
  eventTypeId: number | null;
  eventType: string | null;
  status: string | null;
  observedAt: Date;
}

/** Stores a booking the embed reported; a repeat of the same uid keeps the first and reports `created: false`. */
export async function insertObserved(tx: Tx, o: ObservedInput): Promise<{ created: boolean; sessionId: string; consentReceiptId: string }> {
  const res = await tx.query<{ session_id: string; consent_receipt_id: string }>(
    `INSERT INTO observed_bookings (tenant_id, uid, session_id, consent_receipt_id, start_time, end_time, event_type_id, event_type, status, observed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tenant_id, uid) DO NOTHING RETURNING session_id, consent_receipt_id`,
    [o.tenantId, o.uid, o.sessionId, o.consentReceiptId, o.startTime, o.endTime, o.eventTypeId, o.eventType, o.status, o.observedAt],
  );
  if (res.rows[0]) return { created: true, sessionId: res.rows[0].session_id, consentReceiptId: res.rows[0].consent_receipt_id };
  const prev = await tx.query<{ session_id: string; consent_receipt_id: string }>(
    'SELECT session_id, consent_receipt_id FROM observed_bookings WHERE tenant_id = $1 AND uid = $2',
    [o.tenantId, o.uid],
  );
  return { created: false, sessionId: prev.rows[0]!.session_id, consentReceiptId: prev.rows[0]!.consent_receipt_id };
}
