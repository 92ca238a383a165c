import { createHash } from 'node:crypto';
import { CALBRIDGE_TENANT_METADATA_KEY, CalcomWebhook, TenantSlug } from '@calbridge/shared';
import { applyCalcomWebhook } from '../bookings/bookings.service.js';
import type { AppContext } from '../context.js';
import {
  AppError,
  WebhookInvalidPayload,
  WebhookSignatureInvalid,
  WebhookSignatureMissing,
  WebhookStale,
  WebhookTenantMismatch,
  WebhookUnknownTenant,
  WebhookUnsigned,
  type FieldError,
} from '../errors.js';
import { createErasureGuard } from '../gdpr/erasure-guard.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { webhookMetrics } from './webhooks.metrics.js';
import * as repo from './webhooks.repository.js';
import { checkCalcomSignature, type SignatureCheck } from './webhooks.signature.js';

/** No tenant has this id: the unknown-tenant path reads secrets under it. */
const NO_TENANT = '00000000-0000-0000-0000-000000000000';

const TENANT_CACHE_MS = 30_000;
const TENANT_CACHE_SIZE = 10_000;
const SECRETS_CACHE_MS = 10_000;

type Refusal = 'signature_missing' | 'signature_invalid' | 'unsigned_delivery' | 'invalid_payload' | 'tenant_mismatch' | 'stale_delivery';

export type IntakeResult = { duplicate: boolean };

function refusal(code: Refusal, errors: FieldError[]): AppError {
  switch (code) {
    case 'signature_missing':
      return new WebhookSignatureMissing();
    case 'signature_invalid':
      return new WebhookSignatureInvalid();
    case 'unsigned_delivery':
      return new WebhookUnsigned();
    case 'invalid_payload':
      return new WebhookInvalidPayload(errors);
    case 'tenant_mismatch':
      return new WebhookTenantMismatch();
    case 'stale_delivery':
      return new WebhookStale();
  }
}

/** Reads the JSON body (already verified); the trigger name too when it can, for the log. */
function readBody(body: Buffer): { value: unknown; trigger: string | null } | null {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  const t = (value as { triggerEvent?: unknown } | null)?.triggerEvent;
  return { value, trigger: typeof t === 'string' && /^[A-Z][A-Z0-9_]{0,99}$/.test(t) ? t : null };
}

function metadataOf(w: CalcomWebhook): Record<string, unknown> | null | undefined {
  if (w.kind === 'booking') return w.booking.metadata;
  if (w.kind === 'meeting') return w.metadata;
  return null;
}

/**
 * The Cal.com webhook intake: verify, then read, then store exactly once and
 * project in one tenant transaction; answer only after it commits.
 */
export function createWebhooksService(ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'logger' | 'metrics' | 'keyring'>, tenants: TenantsService) {
  const { db, clock, config, logger } = ctx;
  // A delivery about someone erased (GDPR) is stored and projected pseudonymised.
  const erasure = createErasureGuard(ctx);
  const metrics = webhookMetrics(ctx.metrics.registry);
  const log = logger.child({ component: 'webhooks' });

  // slug -> tenant, for known and unknown slugs alike, so a cached answer costs the
  // same whether the tenant exists or not. Slugs never change; a new tenant is
  // reachable within TENANT_CACHE_MS. Bounded: the oldest entry goes first.
  const tenantCache = new Map<string, { tenant: { id: string; slug: string } | null; until: number }>();
  async function resolveTenant(slug: string): Promise<{ id: string; slug: string } | null> {
    // A slug that cannot exist is looked up as the empty string (matches nothing): same work, no odd bytes in SQL.
    const key = TenantSlug.safeParse(slug).success ? slug : '';
    const now = performance.now();
    const hit = tenantCache.get(key);
    if (hit && hit.until > now) return hit.tenant;
    const found = await tenants.find(key);
    const tenant = found ? { id: found.id, slug: found.slug } : null;
    tenantCache.delete(key);
    if (tenantCache.size >= TENANT_CACHE_SIZE) tenantCache.delete(tenantCache.keys().next().value!);
    tenantCache.set(key, { tenant, until: now + TENANT_CACHE_MS });
    return tenant;
  }

  function count(outcome: string, code: string | null, started: bigint) {
    metrics.deliveries.inc({ outcome, code: code ?? 'none' });
    metrics.latency.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  // tenant id -> its decrypted webhook secrets, briefly, so a delivery holds a database
  // connection only to store. A signature the cached secrets do not verify is checked again
  // against fresh ones, so a newly rotated secret works at once; a secret past its grace
  // period may verify for at most SECRETS_CACHE_MS longer on this instance.
  const secretsCache = new Map<string, { secrets: string[]; until: number }>();
  async function verify(tenantId: string, body: Buffer, signature: string | undefined): Promise<SignatureCheck> {
    // The injected clock, like the grace period it shortens.
    const now = clock.now().getTime();
    const hit = secretsCache.get(tenantId);
    if (hit && hit.until > now) {
      const check = checkCalcomSignature(body, signature, hit.secrets);
      if (check === 'valid') return check;
    }
    const secrets = await db.withTenant(tenantId, (tx) => tenants.webhookSecrets(tx, tenantId));
    secretsCache.delete(tenantId);
    if (secretsCache.size >= TENANT_CACHE_SIZE) secretsCache.delete(secretsCache.keys().next().value!);
    secretsCache.set(tenantId, { secrets, until: now + SECRETS_CACHE_MS });
    return checkCalcomSignature(body, signature, secrets);
  }

  /**
   * Takes one delivery for the tenant named in the URL. Resolves with
   * `{ duplicate }` once stored (or recognised); throws the refusal otherwise.
   */
  async function receive(slug: string, signature: string | undefined, body: Buffer): Promise<IntakeResult> {
    const started = process.hrtime.bigint();
    const receivedAt = clock.now();
    try {
      const tenant = await resolveTenant(slug);
      if (!tenant) {
        // The same work as a refused signature: read secrets, HMAC, one write's cost.
        await verify(NO_TENANT, body, signature);
        await db.withTenant(NO_TENANT, (tx) => repo.insertNoDelivery(tx, receivedAt));
        throw new WebhookUnknownTenant();
      }

      // Verified, read and checked before a connection is taken for the write.
      const outcome = await (async () => {
        const check = await verify(tenant.id, body, signature);
        if (check !== 'valid') return { refused: check, trigger: null, errors: [] };
        const read = readBody(body);
        if (!read) return { refused: 'invalid_payload', trigger: null, errors: [{ path: 'body', message: 'not JSON' }] };
        const parsed = CalcomWebhook.safeParse(read.value);
        if (!parsed.success) {
          const errors = parsed.error.issues.slice(0, 20).map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message }));
          return { refused: 'invalid_payload', trigger: read.trigger, errors };
        }
        const w = parsed.data;
        const named = metadataOf(w)?.[CALBRIDGE_TENANT_METADATA_KEY];
        if (named !== undefined && named !== null && named !== tenant.slug) return { refused: 'tenant_mismatch', trigger: w.trigger, errors: [] };
        const createdAt = new Date(w.createdAt);
        if (createdAt.getTime() < receivedAt.getTime() - config.webhookReplayWindowSeconds * 1000) return { refused: 'stale_delivery', trigger: w.trigger, errors: [] };

        const bookingUid = w.kind === 'booking' ? w.booking.uid : w.kind === 'no_show' ? w.noShow.bookingUid : w.kind === 'meeting' ? w.bookingUid : null;
        const bodySha256 = createHash('sha256').update(body).digest();
        return db.withTenant(tenant.id, async (tx) => {
          // The delivery identity stays the hash of the bytes Cal.com signed, so a retry of a pseudonymised delivery is still a duplicate.
          const stored = await erasure.screenDelivery(tx, tenant.id, body, w);
          const inboxId = await repo.insertInbox(tx, { tenantId: tenant.id, bodySha256, trigger: w.trigger, eventCreatedAt: createdAt, bookingUid, receivedAt, body: stored.body });
          if (!inboxId) return { duplicate: true, trigger: w.trigger } as const;
          await applyCalcomWebhook(tx, tenant.id, stored.webhook, inboxId, receivedAt);
          return { duplicate: false, trigger: w.trigger } as const;
        });
      })() as { refused: Refusal; trigger: string | null; errors: FieldError[] } | { duplicate: boolean; trigger: string };

      if ('refused' in outcome) {
        const code = outcome.refused;
        await db.withTenant(tenant.id, (tx) =>
          repo.insertDelivery(tx, { tenantId: tenant.id, receivedAt, trigger: outcome.trigger, outcome: code === 'stale_delivery' ? 'stale' : 'rejected', code, inboxId: null }),
        );
        count(code === 'stale_delivery' ? 'stale' : 'rejected', code, started);
        log.info({ tenant: tenant.slug, code, trigger: outcome.trigger }, 'webhook delivery refused');
        throw refusal(code, outcome.errors);
      }
      count(outcome.duplicate ? 'duplicate' : 'accepted', null, started);
      log.debug({ tenant: tenant.slug, trigger: outcome.trigger, duplicate: outcome.duplicate }, 'webhook delivery stored');
      return { duplicate: outcome.duplicate };
    } catch (err) {
      if (err instanceof WebhookUnknownTenant) {
        count('rejected', err.code, started);
        log.info({ code: err.code }, 'webhook delivery refused');
      } else if (!(err instanceof AppError) || err.status >= 500) {
        count('error', err instanceof AppError ? err.code : 'internal_error', started);
      }
      throw err;
    }
  }

  /** The tenant's delivery log for the admin API, newest first. */
  async function deliveries(tenantId: string, limit: number, cursor: string | null): Promise<{ data: repo.DeliveryRecord[]; nextCursor: string | null }> {
    const rows = await db.withTenant(tenantId, (tx) => repo.listDeliveries(tx, limit + 1, cursor));
    const data = rows.slice(0, limit);
    return { data, nextCursor: rows.length > limit ? data.at(-1)!.id : null };
  }

  return { receive, deliveries };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
