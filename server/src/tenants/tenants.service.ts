import { TenantSlug, type CreateTenantRequest, type Tenant, type UpdateTenantRequest } from '@calbridge/shared';
import type { AppContext } from '../context.js';
import { randomToken } from '../crypto/tokens.js';
import type { Tx } from '../db/db.js';
import { createSlugCache } from '../db/slug-cache.js';
import { TenantExists, TenantNotFound } from './tenants.errors.js';
import { decodeTextCursor } from '../http/cursor.js';
import * as repo from './tenants.repository.js';
import * as secrets from './tenant-secrets.repository.js';
import { connectionSummary, WEBHOOK_SYNC_TASK } from '../calcom/connection-summary.js';
import { enqueue } from '../jobs/queue.js';
import type { TenantRecord } from './tenants.repository.js';
import { assertConsentVersionFree, DEFAULT_CONSENT_SETTINGS, effectiveConsent, mergeWidgetSettings, recordConsentChange } from '../widget/widget.service.js';

export type { TenantRecord };

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** How a tenant appears in the admin API. Connection details come from the calcom capability. */
export function toTenant(t: TenantRecord, calcom: Tenant['calcom'] = { kind: 'none', status: 'disconnected', connectedAt: null }): Tenant {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    allowedOrigins: t.allowedOrigins,
    calLink: t.calLink,
    timeZone: t.timeZone,
    calcom,
    widget: t.widget,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

/**
 * `cache`: keep tenants looked up by slug in this process while the change feed is live
 * (db/slug-cache.ts), for the instance's request path: the admin API's tenant gate, webhook
 * intake and the widget routes then skip a transaction per request. Its own writes drop the
 * entry at once; other instances' within a NOTIFY. Off for short-lived services (jobs, sweeps),
 * which would otherwise each subscribe to the feed.
 */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function createTenantsService(ctx: Pick<AppContext, 'db' | 'keyring' | 'clock' | 'config' | 'changes'>, opts: { cache?: boolean } = {}) {
  const { db, keyring, clock, config } = ctx;
  // This instance's caches hear its own writes at once; other instances through the NOTIFY of migration 0017.
  const changed = (t: TenantRecord) => ctx.changes?.emit({ table: 'tenants', tenantId: t.id, slug: t.slug });
  const load = (slug: string) => db.withPlatform((tx) => repo.findTenantBySlug(tx, slug));
  // One record serves many requests: frozen, so code that changes it fails loudly instead of changing it for all.
  const bySlug = opts.cache
    ? createSlugCache({ changes: ctx.changes, load: async (slug) => deepFreeze(await load(slug)), tenantId: (t: TenantRecord) => t.id })
    : null;

  /** Finds a tenant by slug across the directory, or throws `tenant_not_found`. */
  async function resolve(slug: string): Promise<TenantRecord> {
    const t = await find(slug);
    if (!t) throw new TenantNotFound();
    return t;
  }

  /** Finds a tenant by slug, or null; for callers that must not reveal which slugs exist. */
  async function find(slug: string): Promise<TenantRecord | null> {
    // Only well-formed slugs are kept: a made-up path cannot fill memory with long keys (no stored slug is malformed).
    return bySlug && TenantSlug.safeParse(slug).success ? bySlug.get(slug) : load(slug);
  }

  /** Finds a tenant by id, or null (job payloads and OAuth states carry ids, not slugs). */
  async function findById(id: string): Promise<TenantRecord | null> {
    return db.withPlatform((tx) => repo.findTenantById(tx, id));
  }

  async function create(input: CreateTenantRequest): Promise<TenantRecord> {
    const consent = input.widget?.consent;
    if (consent) assertConsentVersionFree(DEFAULT_CONSENT_SETTINGS, consent);
    const t = await db.withPlatform((tx) =>
      repo.insertTenant(tx, {
        slug: input.slug,
        name: input.name,
        allowedOrigins: [...new Set(input.allowedOrigins)],
        calLink: input.calLink ?? null,
        timeZone: input.timeZone ?? 'UTC',
        widget: input.widget ?? {},
      }),
    );
    if (!t) throw new TenantExists();
    if (consent) await db.withTenant(t.id, (tx) => recordConsentChange(tx, t.id, DEFAULT_CONSENT_SETTINGS, consent));
    changed(t);
    return t;
  }

  async function list(options: { limit: number; cursor: string | null; onlyTenantId?: string | null }): Promise<Page<TenantRecord>> {
    const after = options.cursor ? decodeTextCursor(options.cursor, /^[a-z0-9-]{1,63}$/) : null;
    const rows = options.onlyTenantId
      ? await db.withTenant(options.onlyTenantId, (tx) => repo.listTenants(tx, options.limit + 1, after))
      : await db.withPlatform((tx) => repo.listTenants(tx, options.limit + 1, after));
    const page = rows.slice(0, options.limit);
    const nextCursor = rows.length > options.limit ? Buffer.from(page.at(-1)!.slug, 'utf8').toString('base64url') : null;
    return { data: page, nextCursor };
  }

  /** Changes the tenant the tenant gate resolved (admin.auth.ts). */
  async function update(t: TenantRecord, patch: UpdateTenantRequest): Promise<TenantRecord> {
    const updated = await db.withTenant(t.id, async (tx) => {
      const { widget: widgetPatch, ...rest } = patch;
      let widget: TenantRecord['widget'] | undefined;
      if (widgetPatch) {
        // Read, merge and check under a row lock so two concurrent edits cannot both pass the version check.
        const current = await repo.lockTenant(tx, t.id);
        if (!current) return null;
        widget = mergeWidgetSettings(current.widget, widgetPatch);
        await recordConsentChange(tx, t.id, effectiveConsent(current.widget), effectiveConsent(widget));
      }
      return repo.updateTenant(tx, t.id, {
        ...rest,
        allowedOrigins: patch.allowedOrigins ? [...new Set(patch.allowedOrigins)] : undefined,
        widget,
      });
    });
    if (!updated) throw new TenantNotFound();
    changed(updated);
    return updated;
  }

  /**
   * Issues a new webhook secret. The previous one keeps verifying for the
   * grace period, so Cal.com can be switched over without losing deliveries.
   */
  async function rotateWebhookSecret(tenantId: string): Promise<{ secret: string; previousValidUntil: string }> {
    const secret = randomToken('', 32);
    const now = clock.now();
    const until = new Date(now.getTime() + config.webhookSecretGraceSeconds * 1000);
    await db.withTenant(tenantId, async (tx) => {
      await secrets.retireSecrets(tx, 'webhook_secret', now, until);
      await secrets.insertSecret(tx, tenantId, 'webhook_secret', keyring.encrypt(secret, { tenantId, purpose: 'webhook_secret' }), keyring.currentKeyId);
      // Push the new secret to Cal.com (PATCH /v2/webhooks/{id}) from the job queue, in the same
      // transaction so a committed rotation is always pushed; the job skips unconnected tenants.
      await enqueue(tx, WEBHOOK_SYNC_TASK, { tenantId }, { jobKey: `calcom-webhooks:${tenantId}` });
    });
    return { secret, previousValidUntil: until.toISOString() };
  }

  /** The tenant's webhook secrets that verify now, newest first, in plaintext. Inside a tenant transaction. */
  async function webhookSecrets(tx: Tx, tenantId: string): Promise<string[]> {
    const rows = await secrets.activeSecrets(tx, 'webhook_secret', clock.now());
    return rows.map((r) => keyring.decrypt(r.ciphertext, { tenantId, purpose: 'webhook_secret' }));
  }

  /** The tenant's Cal.com connection as the admin API shows it (kind, status, connectedAt; never a token). */
  async function calcomSummary(tenantId: string): Promise<Tenant['calcom']> {
    return db.withTenant(tenantId, (tx) => connectionSummary(tx, tenantId));
  }

  // Keyed by tenant id. Always a value (a tenant without a connection has the `none` summary): a
  // connection's insert names no slug, so a cached "unknown" would not be dropped by it.
  const summaryById = opts.cache
    ? createSlugCache({
        changes: ctx.changes,
        load: async (tenantId) => deepFreeze({ tenantId, summary: await calcomSummary(tenantId) }),
        tenantId: (v: { tenantId: string }) => v.tenantId,
      })
    : null;

  /**
   * The same summary for the widget's hot path (a session's published modes), from a per-instance
   * cache dropped on every instance when the connection's kind, status or account changes
   * (migrations 0017 and 0022), and read from the database while the change feed is down. The
   * admin API keeps reading it live (`calcomSummary`): an admin sees their own change at once.
   */
  async function calcomSummaryCached(tenantId: string): Promise<Tenant['calcom']> {
    if (!summaryById) return calcomSummary(tenantId);
    return (await summaryById.get(tenantId))!.summary;
  }

  return { resolve, find, findById, create, list, update, rotateWebhookSecret, webhookSecrets, calcomSummary, calcomSummaryCached };
}

export type TenantsService = ReturnType<typeof createTenantsService>;

/**
 * Sealed per-tenant secrets of another capability's kind (GDPR's subject salt), stored beside the
 * tenant's own: the tenants capability's store, reached through its service. Inside the tenant's transaction.
 */
export const tenantSecretStore = { active: secrets.activeSecrets, insert: secrets.insertSecret };
