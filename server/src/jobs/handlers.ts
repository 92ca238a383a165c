import { createCalcom } from '../calcom/calcom.js';
import { WEBHOOK_SYNC_TASK } from '../calcom/connection-summary.js';
import { RECONCILE_ALL_TASK, RECONCILE_TENANT_TASK, reconcileCrontab } from '../calcom/reconciliation.service.js';
import type { AppContext } from '../context.js';
import { createGdprService, RETENTION_ALL_TASK, RETENTION_CRONTAB, RETENTION_TENANT_TASK } from '../gdpr/gdpr.service.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { leadsCrmJobHandlers, leadsCrmOnWorkerStart, LEADS_CRM_CRONTAB } from '../leads/leads.jobs.js';
import { webhookJobHandlers, webhooksOnWorkerStart } from '../webhooks/webhooks.jobs.js';
import type { JobHandler } from './queue.js';

/**
 * Every job the worker knows, by task name. Each capability contributes its
 * handlers here; the names are part of the database's contents (pending jobs),
 * so renaming one needs a migration of pending jobs.
 */
export function jobHandlers(ctx: AppContext): Record<string, JobHandler> {
  const calcom = createCalcom(ctx, createTenantsService(ctx));
  const gdpr = createGdprService(ctx, { calcom });
  return {
    [RECONCILE_ALL_TASK]: async () => {
      await calcom.reconciliation.enqueueAll();
    },
    [RECONCILE_TENANT_TASK]: async (payload) => {
      const resumeAfter = typeof payload.resumeAfter === 'string' && !Number.isNaN(Date.parse(payload.resumeAfter)) ? payload.resumeAfter : undefined;
      await calcom.reconciliation.reconcileJob(String(payload.tenantId), Number(payload.deferrals ?? 0) || 0, resumeAfter);
    },
    [WEBHOOK_SYNC_TASK]: (payload) => calcom.webhookRegistration.ensureById(String(payload.tenantId)),
    [RETENTION_ALL_TASK]: async () => {
      await gdpr.enqueueRetentionAll();
    },
    [RETENTION_TENANT_TASK]: async (payload) => {
      await gdpr.runRetention(String(payload.tenantId));
    },
    ...leadsCrmJobHandlers(ctx),
    ...webhookJobHandlers(ctx),
  };
}

/** Recurring jobs, in graphile-worker's crontab format (one line each). */
export function jobCrontab(config?: Pick<AppContext['config'], 'reconcile'>): string {
  return [reconcileCrontab(config?.reconcile.intervalMinutes ?? 15), RETENTION_CRONTAB, LEADS_CRM_CRONTAB].join('\n');
}

/**
 * One-off jobs a process schedules once its worker runs (after a restart,
 * e.g. recovering what a killed predecessor left leased). Idempotent: every
 * instance calls it at start.
 */
export async function jobsOnWorkerStart(ctx: AppContext): Promise<void> {
  await leadsCrmOnWorkerStart(ctx);
  await webhooksOnWorkerStart(ctx);
}
