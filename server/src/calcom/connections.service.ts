import type { AppContext } from '../context.js';
import { CalcomAlreadyConnected, CalcomPlatformNotConfigured, CalcomNotConnected } from './calcom.errors.js';
import { enqueue } from '../jobs/queue.js';
import type { CalcomClient } from './client.js';
import * as repo from './connections.repository.js';
import type { TokenSet, TokenVault } from './token-vault.js';
import type { WebhookRegistration } from './webhook-registration.js';

import { toSummary, WEBHOOK_SYNC_TASK, type CalcomSummary } from './connection-summary.js';

/**
 * Connecting a tenant to Cal.com, either way, behind one interface: store
 * the sealed tokens with who they belong to, then register the webhook.
 */
export function createConnectionsService(
  ctx: Pick<AppContext, 'db' | 'keyring' | 'clock' | 'config' | 'logger' | 'changes'>,
  deps: { calcom: CalcomClient; vault: TokenVault; webhooks: WebhookRegistration },
) {
  // This instance's caches of the connection (widget config, session summary, the picker's account)
  // hear its own committed writes at once; other instances through migration 0017's NOTIFY.
  const changed = (tenantId: string) => ctx.changes?.emit({ table: 'calcom_connections', tenantId });
  const { db, keyring, clock, config, logger } = ctx;
  const { calcom, vault, webhooks } = deps;

  async function summary(tenantId: string): Promise<CalcomSummary> {
    return toSummary(await db.withTenant(tenantId, (tx) => repo.findConnection(tx, tenantId)));
  }

  /** Registers the webhook now; if Cal.com is not answering, a job tries again. Connecting never fails on it. */
  async function registerWebhook(tenant: { id: string; slug: string }): Promise<void> {
    try {
      await webhooks.ensure(tenant);
    } catch (err) {
      logger.warn({ component: 'calcom', tenantId: tenant.id, code: (err as { code?: string }).code }, 'webhook registration failed; queued a retry');
      await db.withTenant(tenant.id, (tx) => enqueue(tx, WEBHOOK_SYNC_TASK, { tenantId: tenant.id }, { jobKey: `calcom-webhooks:${tenant.id}` }));
    }
  }

  /** Stores OAuth tokens after the callback; finds out which Cal.com user they belong to first. */
  async function connectOAuth(tenant: { id: string; slug: string }, tokens: TokenSet): Promise<{ username: string }> {
    const me = await calcom.me.get({ kind: 'bearer', token: tokens.accessToken });
    await db.withTenant(tenant.id, (tx) =>
      repo.upsertConnection(tx, {
        tenantId: tenant.id,
        kind: 'oauth',
        calcomUserId: me.id,
        calcomUsername: me.username,
        tokensCiphertext: vault.seal(tenant.id, 'oauth', tokens),
        keyId: keyring.currentKeyId,
        accessExpiresAt: tokens.accessExpiresAt,
        refreshExpiresAt: tokens.refreshExpiresAt,
        now: clock.now(),
      }),
    );
    changed(tenant.id);
    await registerWebhook(tenant);
    return { username: me.username };
  }

  function platformClient(): { clientId: string; secret: string } {
    const { platformClientId, platformClientSecret } = config.calcom;
    if (!platformClientId || !platformClientSecret) throw new CalcomPlatformNotConfigured();
    return { clientId: platformClientId, secret: platformClientSecret };
  }

  /** Creates a managed user for the tenant through the platform client and stores its tokens. */
  async function provisionManagedUser(
    tenant: { id: string; slug: string; name: string; timeZone: string },
    input: { email?: string | undefined; name?: string | undefined; timeZone?: string | undefined },
  ): Promise<{ calcomUserId: number; username: string }> {
    const { clientId, secret } = platformClient();
    const existing = await db.withTenant(tenant.id, (tx) => repo.findConnection(tx, tenant.id));
    if (existing) throw new CalcomAlreadyConnected();
    const created = await calcom.managedUsers.create(clientId, secret, {
      // Cal.com stores it as local+<clientId>@domain; no mail is sent to it.
      email: input.email ?? `${tenant.slug}@tenants.calbridge.invalid`,
      name: input.name ?? tenant.name,
      timeZone: input.timeZone ?? tenant.timeZone,
    });
    await db.withTenant(tenant.id, (tx) =>
      repo.upsertConnection(tx, {
        tenantId: tenant.id,
        kind: 'managed_user',
        calcomUserId: created.user.id,
        calcomUsername: created.user.username,
        tokensCiphertext: vault.seal(tenant.id, 'managed_user', {
          accessToken: created.accessToken,
          refreshToken: created.refreshToken,
          accessExpiresAt: new Date(created.accessTokenExpiresAt),
          refreshExpiresAt: new Date(created.refreshTokenExpiresAt),
        }),
        keyId: keyring.currentKeyId,
        accessExpiresAt: new Date(created.accessTokenExpiresAt),
        refreshExpiresAt: new Date(created.refreshTokenExpiresAt),
        now: clock.now(),
      }),
    );
    changed(tenant.id);
    await registerWebhook(tenant);
    return { calcomUserId: created.user.id, username: created.user.username };
  }

  /** Deletes the managed user at Cal.com (its bookings and webhooks go with it) and forgets the connection. */
  async function removeManagedUser(tenant: { id: string }): Promise<void> {
    const { clientId, secret } = platformClient();
    const c = await db.withTenant(tenant.id, (tx) => repo.findConnection(tx, tenant.id));
    if (!c || c.kind !== 'managed_user') throw new CalcomNotConnected();
    try {
      await calcom.managedUsers.remove(clientId, secret, c.calcomUserId);
    } catch (err) {
      // Already gone at Cal.com: forgetting it here is what is left to do.
      if ((err as { code?: string }).code !== 'calcom_not_found') throw err;
    }
    await db.withTenant(tenant.id, (tx) => repo.deleteConnection(tx, tenant.id));
    changed(tenant.id);
  }

  /**
   * Forgets an OAuth connection, so its Cal.com account may serve another tenant (one account, one
   * tenant: decision 0034). Our webhook at Cal.com is removed first when the stored tokens still work;
   * when they do not (or Cal.com does not answer) the connection is forgotten anyway, and the next
   * tenant to connect that account removes the leftover webhook (`ensure`). Cal.com has no endpoint
   * to revoke the tokens: the account's next refresh through our client deletes them.
   */
  async function disconnectOAuth(tenant: { id: string; slug: string }): Promise<{ webhookRemoved: boolean }> {
    const c = await db.withTenant(tenant.id, (tx) => repo.findConnection(tx, tenant.id));
    if (!c || c.kind !== 'oauth') throw new CalcomNotConnected();
    let webhookRemoved = false;
    if (c.status === 'connected') {
      try {
        webhookRemoved = (await webhooks.remove(tenant)) > 0;
      } catch (err) {
        logger.warn({ component: 'calcom', tenantId: tenant.id, code: (err as { code?: string }).code }, 'webhook removal failed; the connection is forgotten anyway');
      }
    }
    await db.withTenant(tenant.id, (tx) => repo.deleteConnection(tx, tenant.id));
    changed(tenant.id);
    return { webhookRemoved };
  }

  return { summary, connectOAuth, disconnectOAuth, provisionManagedUser, removeManagedUser, registerWebhook };
}

export type ConnectionsService = ReturnType<typeof createConnectionsService>;
