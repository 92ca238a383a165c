import type { AppContext } from '../context.js';
import { enqueue, type JobHandler } from '../jobs/queue.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { createWebhooksService } from './webhooks.service.js';

/** Tries again every unprocessed delivery an older processor version left (after an upgrade). */
export const WEBHOOK_REPROCESS_TASK = 'webhooks.reprocess-outdated';
const REPROCESS_KEY = 'webhooks:reprocess-outdated';

export function webhookJobHandlers(ctx: AppContext): Record<string, JobHandler> {
  const webhooks = createWebhooksService(ctx, createTenantsService(ctx));
  return {
    [WEBHOOK_REPROCESS_TASK]: async () => {
      await webhooks.reprocessOutdated();
    },
  };
}

/**
 * Queued by every instance at start (one pending job, by key): a release that
 * raises WEBHOOK_PROCESSOR_VERSION applies what the previous one could not.
 * When nothing is outdated the job costs one indexed query per tenant.
 */
export async function webhooksOnWorkerStart(ctx: AppContext): Promise<void> {
  await ctx.db.withPlatform((tx) => enqueue(tx, WEBHOOK_REPROCESS_TASK, {}, { jobKey: REPROCESS_KEY, maxAttempts: 5 }));
}
