import { BOOKING_CHANGED_TASK } from '../bookings/bookings.projection.js';
import type { AppContext } from '../context.js';
import { createCrmDelivery, CRM_SWEEP_CRONTAB, CRM_SWEEP_TASK, type DeliveryDeps } from '../crm/crm.delivery.js';
import { CRM_DELIVER_TASK } from '../crm/crm.outbox.js';
import type { JobHandler } from '../jobs/queue.js';
import { createLeadsService, LEAD_RESCORE_TASK } from './leads.service.js';

/**
 * The jobs of lead scoring and CRM hand-off, for jobs/handlers.ts:
 * `booking.changed` (the webhook intake's outbox) rescores the booker and
 * queues CRM messages; `leads.rescore` follows a rule change; `crm.deliver`
 * sends one message; `crm_sweep` (cron) recovers messages whose worker died.
 */
export function leadsCrmJobHandlers(ctx: AppContext, deps: DeliveryDeps = {}): Record<string, JobHandler> {
  const leads = createLeadsService(ctx);
  const delivery = createCrmDelivery(ctx, deps);
  return {
    [BOOKING_CHANGED_TASK]: (p) => leads.onBookingChanged(String(p.tenantId), String(p.bookingUid), String(p.eventId)),
    [LEAD_RESCORE_TASK]: async (p) => {
      await leads.rescoreTenant(String(p.tenantId), Number(p.version ?? 0));
    },
    [CRM_DELIVER_TASK]: async (p) => {
      await delivery.deliver(String(p.tenantId), String(p.messageId));
    },
    [CRM_SWEEP_TASK]: async () => {
      await delivery.sweep();
    },
  };
}

export const LEADS_CRM_CRONTAB = CRM_SWEEP_CRONTAB;

/** What a starting worker schedules: the CRM recovery sweep (messages leased by an instance that died). */
export async function leadsCrmOnWorkerStart(ctx: AppContext): Promise<void> {
  await createCrmDelivery(ctx).scheduleRecoverySweep();
}
