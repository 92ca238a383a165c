import type { Tx } from '../db/db.js';
import { enqueue } from '../jobs/queue.js';

/**
 * The CRM outbox: events about leads and bookings become one message per
 * matching active destination, written in the caller's transaction, so a
 * message exists exactly when the change that caused it committed. Delivery
 * (crm.delivery.ts) sends them at least once, one at a time per lead and
 * destination, in the order they were written.
 */

/** Every event a destination can receive. */
export type CrmEventType = 'lead.created' | 'lead.updated' | 'booking.created' | 'booking.cancelled' | 'booking.rescheduled' | 'subject.erased';

/** The job that sends one message; payload `{ tenantId, messageId }`. */
export const CRM_DELIVER_TASK = 'crm.deliver';

/** The job key of a message's delivery job: one pending job per message, later schedules replace earlier ones. */
export const deliverJobKey = (messageId: string) => `crm-deliver:${messageId}`;

export interface CrmEvent {
  tenantId: string;
  type: CrmEventType;
  /** The lead the event is about; its messages go out in order. Null: no ordering with other messages. */
  leadId: string | null;
  /** The event's `data` member as receivers see it. May hold personal data: it is stored only in crm_messages.payload. */
  data: Record<string, unknown>;
}

export interface EmitOptions {
  /** The event time written into the message (`timestamp`); default: the database's statement time. */
  now?: Date;
  /**
   * Makes emitting idempotent: a second emit with the same key for the same
   * destination is ignored (for jobs that may run twice).
   */
  dedupeKey?: string;
}

/**
 * Queues a CRM event inside the caller's tenant transaction (`db.withTenant`):
 * one message per active destination subscribed to `e.type`, and a delivery
 * job for each. Returns nothing; with no destination it does nothing.
 */
export async function emitCrmEvent(tx: Tx, e: CrmEvent, options: EmitOptions = {}): Promise<void> {
  const r = await tx.query<{ id: string }>(
    `INSERT INTO crm_messages (tenant_id, destination_id, lead_id, order_key, event_type, payload, dedupe_key, next_attempt_at, created_at)
     SELECT $1, d.id, $2::uuid, coalesce($2::text, gen_random_uuid()::text), $3,
            jsonb_build_object('type', $3::text, 'timestamp', to_char(coalesce($6::timestamptz, statement_timestamp()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', $4::jsonb),
            $5, 'epoch', coalesce($6::timestamptz, statement_timestamp())
       FROM crm_destinations d
      WHERE d.status = 'active' AND (d.events IS NULL OR $3 = ANY (d.events))
      ORDER BY d.created_at, d.id
     ON CONFLICT (tenant_id, destination_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
     RETURNING id`,
    [e.tenantId, e.leadId, e.type, JSON.stringify(e.data), options.dedupeKey ?? null, options.now ?? null],
  );
  for (const { id } of r.rows) {
    await enqueue(tx, CRM_DELIVER_TASK, { tenantId: e.tenantId, messageId: id }, { jobKey: deliverJobKey(id), maxAttempts: 5 });
  }
}
