import type { Tx } from '../db/db.js';
import { enqueue } from '../jobs/queue.js';
import { insertMessages, type CrmEventType } from './crm.repository.js';

/**
 * The CRM outbox: events about leads and bookings become one message per
 * matching active destination, written in the caller's transaction, so a
 * message exists exactly when the change that caused it committed. Delivery
 * (crm.delivery.ts) sends them at least once, one at a time per lead and
 * destination, in the order they were written.
 */

export type { CrmEventType };

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
  const ids = await insertMessages(tx, { ...e, now: options.now ?? null, dedupeKey: options.dedupeKey ?? null });
  for (const id of ids) {
    await enqueue(tx, CRM_DELIVER_TASK, { tenantId: e.tenantId, messageId: id }, { jobKey: deliverJobKey(id), maxAttempts: 5 });
  }
}
