import { CALCOM_BOOKING_TRIGGERS, type CalcomWebhookTrigger } from '@calbridge/shared';
import type { AppContext } from '../context.js';
import { CalcomRejected } from './calcom.errors.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { CalcomClient } from './client.js';
import * as repo from './connections.repository.js';
import type { TokenVault } from './token-vault.js';

/**
 * The triggers we subscribe to, taken from the one list of Cal.com's triggers (shared/src/calcom-webhook.schema.ts):
 * every one that moves a booking's state, the no-show update, and the meeting's start and end (the
 * projection keeps those two on the booking). The other meeting triggers would only add history rows.
 */
const CALBRIDGE_WEBHOOK_TRIGGERS = [
  ...CALCOM_BOOKING_TRIGGERS,
  'BOOKING_NO_SHOW_UPDATED',
  'MEETING_STARTED',
  'MEETING_ENDED',
] as const satisfies readonly CalcomWebhookTrigger[];

const INTAKE_PATH = '/v1/webhooks/calcom/';

function intakeUrl(publicUrl: string, slug: string): string {
  return `${publicUrl}${INTAKE_PATH}${encodeURIComponent(slug)}`;
}

export type WebhookSync = { action: 'created' | 'updated'; webhookId: string; removedDuplicates: number };

/** Cal.com answered 409: a webhook with this subscriber URL already exists (user-webhooks.service.ts). */
function isConflict(err: unknown): boolean {
  return err instanceof CalcomRejected && (err.cause as { status?: unknown } | undefined)?.status === 409;
}

/**
 * Registers, or repairs, the tenant's Cal.com webhook: exactly one
 * subscription at our intake URL, active, with the tenant's newest webhook
 * secret and our triggers, without a payload template (Cal.com's default
 * body is what the intake verifies). Creates the tenant's first webhook
 * secret when it has none.
 */
export function createWebhookRegistration(
  ctx: Pick<AppContext, 'db' | 'config' | 'clock'>,
  deps: { calcom: CalcomClient; vault: TokenVault; tenants: TenantsService },
) {
  const { db, config, clock } = ctx;
  const { calcom, vault, tenants } = deps;

  async function currentSecret(tenantId: string): Promise<string> {
    const secrets = await db.withTenant(tenantId, (tx) => tenants.webhookSecrets(tx, tenantId));
    if (secrets[0]) return secrets[0];
    return (await tenants.rotateWebhookSecret(tenantId)).secret;
  }

  async function ensure(tenant: { id: string; slug: string }): Promise<WebhookSync> {
    const subscriberUrl = intakeUrl(config.publicUrl, tenant.slug);
    const secret = await currentSecret(tenant.id);
    const wanted = { subscriberUrl, triggers: [...CALBRIDGE_WEBHOOK_TRIGGERS], active: true, secret };
    const result = await vault.withCredentials(tenant.id, async ({ auth }) => {
      const hooks = await calcom.webhooks.list(auth);
      const ours = hooks.filter((w) => w.subscriberUrl === subscriberUrl);
      // A webhook of this deployment for another tenant on this Cal.com account is left over from the
      // tenant that held the account before (one account, one tenant: decision 0034); left there,
      // it would keep sending this tenant's bookings to that tenant's records.
      const leftover = hooks.filter((w) => w.subscriberUrl !== subscriberUrl && w.subscriberUrl.startsWith(`${config.publicUrl}${INTAKE_PATH}`));
      const [keep, ...extra] = ours;
      for (const w of [...extra, ...leftover]) await calcom.webhooks.remove(auth, w.id);
      // The output never reveals the secret reliably, so an existing webhook is always updated (PATCH): that also
      // pushes a rotated secret to Cal.com.
      if (keep) {
        const hook = await calcom.webhooks.update(auth, keep.id, wanted);
        return { action: 'updated', webhookId: hook.id, removedDuplicates: extra.length } as const;
      }
      try {
        const hook = await calcom.webhooks.create(auth, wanted);
        return { action: 'created', webhookId: hook.id, removedDuplicates: 0 } as const;
      } catch (err) {
        // 409: it exists after all (a create whose answer was lost, or a list page that missed it):
        // find it by subscriber URL and update it instead of failing.
        if (!isConflict(err)) throw err;
        const existing = (await calcom.webhooks.list(auth)).find((w) => w.subscriberUrl === subscriberUrl);
        if (!existing) throw err;
        const hook = await calcom.webhooks.update(auth, existing.id, wanted);
        return { action: 'updated', webhookId: hook.id, removedDuplicates: 0 } as const;
      }
    });
    await db.withTenant(tenant.id, (tx) => repo.setWebhook(tx, tenant.id, result.webhookId, clock.now()));
    return result;
  }

  /** The job behind WEBHOOK_SYNC_TASK: retried by the queue while Cal.com is not answering. */
  async function ensureById(tenantId: string): Promise<void> {
    const tenant = await tenants.findById(tenantId);
    if (!tenant) return;
    const connected = await db.withTenant(tenantId, (tx) => repo.findConnection(tx, tenantId));
    if (connected?.status !== 'connected') return;
    await ensure(tenant);
  }

  /**
   * Removes the tenant's webhook at Cal.com (what `ensure` made), before its connection is forgotten.
   * Returns how many were removed.
   */
  async function remove(tenant: { id: string; slug: string }): Promise<number> {
    const subscriberUrl = intakeUrl(config.publicUrl, tenant.slug);
    return vault.withCredentials(tenant.id, async ({ auth }) => {
      const ours = (await calcom.webhooks.list(auth)).filter((w) => w.subscriberUrl === subscriberUrl);
      for (const w of ours) await calcom.webhooks.remove(auth, w.id);
      return ours.length;
    });
  }

  return { ensure, ensureById, remove };
}

export type WebhookRegistration = ReturnType<typeof createWebhookRegistration>;
