import type { LeadExplanationItem } from '@calbridge/shared';
import { bookingColumns, type BookingRecord } from '../bookings/bookings.columns.js';
import type { Tx } from '../db/db.js';

// SQL of lead scoring. Every function runs inside db.withTenant (RLS).

export interface RuleSetRecord {
  version: number;
  rules: unknown;
  createdAt: Date;
}

export async function latestRuleSet(tx: Tx): Promise<RuleSetRecord | null> {
  const r = await tx.query<RuleSetRecord>(`SELECT version, rules, created_at AS "createdAt" FROM lead_rule_sets ORDER BY version DESC LIMIT 1`);
  return r.rows[0] ?? null;
}

/** Stores the next version of the tenant's rules (serialised per tenant). */
export async function insertRuleSet(tx: Tx, tenantId: string, rules: unknown, now: Date): Promise<RuleSetRecord> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('calbridge:lead_rule_sets:' || $1))`, [tenantId]);
  const r = await tx.query<RuleSetRecord>(
    `INSERT INTO lead_rule_sets (tenant_id, version, rules, created_at)
     SELECT $1, coalesce(max(version), 0) + 1, $2, $3 FROM lead_rule_sets
     RETURNING version, rules, created_at AS "createdAt"`,
    [tenantId, JSON.stringify(rules), now],
  );
  return r.rows[0]!;
}

import { LEAD, type LeadRecord } from './leads.columns.js';

export type { LeadRecord };

/** The lead of this email, created if new, and locked for the rest of the transaction. */
export async function upsertLead(tx: Tx, tenantId: string, email: string, now: Date): Promise<{ lead: LeadRecord; created: boolean }> {
  const r = await tx.query<LeadRecord & { created: boolean }>(
    `INSERT INTO leads (tenant_id, email, created_at, updated_at) VALUES ($1, $2, $3, $3)
     ON CONFLICT ON CONSTRAINT leads_email DO UPDATE SET email = EXCLUDED.email
     RETURNING ${LEAD}, (xmax = 0) AS created`,
    [tenantId, email, now],
  );
  const { created, ...lead } = r.rows[0]!;
  return { lead, created };
}

export async function findLead(tx: Tx, id: string, lock = false): Promise<LeadRecord | null> {
  const r = await tx.query<LeadRecord>(`SELECT ${LEAD} FROM leads WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ?? null;
}

export async function saveScore(
  tx: Tx,
  id: string,
  s: { name: string | null; score: number; grade: string | null; explanation: LeadExplanationItem[]; ruleSetVersion: number; bookingCount: number; marketingConsent: boolean; now: Date },
): Promise<LeadRecord> {
  const r = await tx.query<LeadRecord>(
    `UPDATE leads SET name = coalesce($2, name), score = $3, grade = $4, explanation = $5, rule_set_version = $6, booking_count = $7,
            marketing_consent = $8, scored_at = $9, updated_at = $9
      WHERE id = $1 RETURNING ${LEAD}`,
    [id, s.name, s.score, s.grade, JSON.stringify(s.explanation), s.ruleSetVersion, s.bookingCount, s.marketingConsent, s.now],
  );
  return r.rows[0]!;
}

export type LeadSort = '-score' | 'score' | '-createdAt' | 'createdAt';

/** Leads in the order asked, after a keyset position (the sort value and the id). */
export async function listLeads(
  tx: Tx,
  f: { sort: LeadSort; grade: string | null; after: { value: number | string; id: string } | null; limit: number },
): Promise<LeadRecord[]> {
  const column = f.sort.endsWith('score') ? 'score' : 'created_at';
  const desc = f.sort.startsWith('-');
  const cast = column === 'score' ? 'integer' : 'timestamptz';
  const r = await tx.query<LeadRecord>(
    `SELECT ${LEAD} FROM leads
      WHERE ($1::text IS NULL OR grade = $1)
        AND ($3::uuid IS NULL OR (${column}, id) ${desc ? '<' : '>'} ($2::${cast}, $3::uuid))
      ORDER BY ${column} ${desc ? 'DESC' : 'ASC'}, id ${desc ? 'DESC' : 'ASC'}
      LIMIT $4`,
    [f.grade, f.after?.value ?? null, f.after?.id ?? null, f.limit],
  );
  return r.rows;
}

export async function leadIdsAfter(tx: Tx, afterId: string | null, limit: number): Promise<string[]> {
  const r = await tx.query<{ id: string }>(`SELECT id FROM leads WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`, [afterId, limit]);
  return r.rows.map((x) => x.id);
}

/** One of a lead's bookings (the booking as bookings reads it) with what scoring and the CRM need besides. */
export type LeadBookingRow = BookingRecord & {
  /** The body of the latest booking delivery about it (answers, event slug), if any came by webhook. */
  body: string | null;
  /** The consent receipt a proven link ties the booking to (bookings/consent-links.ts), or null. */
  linkedReceiptId: string | null;
};

/**
 * Bookings whose first attendee (the booker) has this email, oldest first. Found through
 * booking_emails, whose lookup is an index condition under row-level security (migration 0018).
 */
export async function bookingsOfEmail(tx: Tx, email: string): Promise<LeadBookingRow[]> {
  const r = await tx.query<LeadBookingRow>(
    `SELECT ${bookingColumns('b')},
            (SELECT convert_from(i.body, 'UTF8') FROM booking_events e
               JOIN webhook_inbox i ON i.tenant_id = e.tenant_id AND i.id = e.inbox_id
              WHERE e.booking_uid = b.uid AND i.booking_uid = b.uid AND i.trigger_event LIKE 'BOOKING\\_%' AND i.trigger_event <> 'BOOKING_NO_SHOW_UPDATED'
              ORDER BY e.occurred_at DESC LIMIT 1) AS body,
            l.consent_receipt_id AS "linkedReceiptId"
       FROM bookings b
       LEFT JOIN booking_consent_links l ON l.tenant_id = b.tenant_id AND l.booking_uid = b.uid
      WHERE b.uid IN (SELECT booking_uid FROM booking_emails WHERE email = $1) AND lower(b.attendees -> 0 ->> 'email') = $1
      ORDER BY b.created_at, b.uid`,
    [email],
  );
  return r.rows;
}

export interface ReceiptRecord {
  id: string;
  consentVersion: string;
  purposes: string[];
  pageOrigin: string;
  utm: Record<string, string>;
  createdAt: Date;
}

export async function receiptsByIds(tx: Tx, ids: string[]): Promise<ReceiptRecord[]> {
  if (ids.length === 0) return [];
  const r = await tx.query<ReceiptRecord>(
    `SELECT id, consent_version AS "consentVersion", purposes, page_origin AS "pageOrigin", utm, created_at AS "createdAt"
       FROM consent_receipts WHERE id = ANY ($1::uuid[]) ORDER BY created_at`,
    [ids],
  );
  return r.rows;
}

/** The booker of a booking (its first attendee), lower case; null when the booking or its address is missing. */
export async function bookerEmail(tx: Tx, bookingUid: string): Promise<string | null> {
  const r = await tx.query<{ email: string | null }>(`SELECT lower(attendees -> 0 ->> 'email') AS email FROM bookings WHERE uid = $1`, [bookingUid]);
  return r.rows[0]?.email ?? null;
}

export async function bookingTrigger(tx: Tx, eventId: string): Promise<string | null> {
  const r = await tx.query<{ trigger: string }>(`SELECT trigger_event AS trigger FROM booking_events WHERE id = $1`, [eventId]);
  return r.rows[0]?.trigger ?? null;
}
