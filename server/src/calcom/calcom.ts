import type { AppContext } from '../context.js';
import { createOAuthService } from '../oauth/oauth.service.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { calcomMetrics } from './calcom.metrics.js';
import { calcomClientFor } from './client.js';
import { createConnectionsService } from './connections.service.js';
import { createNativeBooking } from './native-booking.service.js';
import { createReconciliation } from './reconciliation.service.js';
import { createTokenVault } from './token-vault.js';
import { createWebhookRegistration } from './webhook-registration.js';

/** Everything the Cal.com capability is made of, wired once per context (app and job worker alike). */
export function createCalcom(ctx: AppContext, tenants: TenantsService) {
  const metrics = calcomMetrics(ctx.metrics.registry);
  const client = calcomClientFor(ctx.config, ctx.fetch, {
    onRetry: ({ status }) => metrics.retries.inc({ status: status === null ? 'network' : String(status) }),
  });
  const vault = createTokenVault(ctx, client);
  const webhookRegistration = createWebhookRegistration(ctx, { calcom: client, vault, tenants });
  const connections = createConnectionsService(ctx, { calcom: client, vault, webhooks: webhookRegistration });
  const reconciliation = createReconciliation(ctx, { calcom: client, vault, tenants });
  const native = createNativeBooking(ctx, { calcom: client, vault });
  const oauth = createOAuthService(ctx, connections, tenants);
  return { client, vault, webhookRegistration, connections, reconciliation, native, oauth };
}

export type Calcom = ReturnType<typeof createCalcom>;
