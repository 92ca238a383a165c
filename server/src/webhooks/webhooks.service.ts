import { isUtf8 } from 'node:buffer';
import { createHash, randomUUID } from 'node:crypto';
import { CALBRIDGE_TENANT_METADATA_KEY, CalcomBookingUid, CalcomInstant, CalcomWebhook, TenantSlug } from '@calbridge/shared';
import { applyCalcomWebhook, applyCalcomWebhookAfter, NotApplicableYet, queueDeferredJobs, type DeferredJobs } from '../bookings/bookings.projection.js';
import { storableText } from '../bookings/storable.js';
import type { AppContext } from '../context.js';
import { isUnavailable, type Tx } from '../db/db.js';
import { AppError, DatabaseUnavailable } from '../errors.js';
import { DeliveryNotFound, DeliveryNotStored, WebhookFuture, WebhookSignatureInvalid, WebhookSignatureMissing, WebhookStale, WebhookTenantMismatch, WebhookUnknownTenant, WebhookUnsigned } from './webhooks.errors.js';
import { anyErasedFromOpening, createErasureGuard, deliveryEmails, deliveryScreenOpening, lockThenCheckSql } from '../gdpr/erasure-guard.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { webhookMetrics } from './webhooks.metrics.js';
import * as repo from './webhooks.repository.js';
import { createSpool } from './webhooks.spool.js';
import { checkCalcomSignature, type SignatureCheck } from './webhooks.signature.js';

/**
 * The version of the code that turns stored deliveries into bookings. Each
 * stored delivery records the version that last tried it; raise this when the
 * processor learns to apply something it could not before, and every
 * `unprocessed` delivery tried by an older version is tried again when the
 * worker starts ({@link WebhooksService.reprocessOutdated}).
 *   1: issue 4's intake (refused what it could not read).
 *   2: issue 11: flat meeting triggers, tolerant fields, metadata merge.
 */
export const WEBHOOK_PROCESSOR_VERSION = 2;

/** No tenant has this id: the unknown-tenant path reads secrets under it. */
const NO_TENANT = '00000000-0000-0000-0000-000000000000';

const TENANT_CACHE_MS = 30_000;
const TENANT_CACHE_SIZE = 10_000;
const SECRETS_CACHE_MS = 10_000;
const REASON_MAX = 1000;

/** Why a delivery is refused: only these, never its shape (Cal.com never resends what we refuse). */
export type Refusal = 'signature_missing' | 'signature_invalid' | 'unsigned_delivery' | 'tenant_mismatch' | 'stale_delivery' | 'future_delivery';

/** `spooled`: verified and written to the local spool while the database was away (answered 202). */
export type IntakeResult = { duplicate: boolean; spooled?: boolean };

/** What became of a verified delivery handed to {@link WebhooksService.ingestVerified}. */
export type IngestOutcome =
  | { refused: Refusal; trigger: string | null }
  | { duplicate: true; trigger: string | null }
  | { duplicate: false; trigger: string | null; deliveryId: string; status: repo.InboxStatus; reason: string | null };

function refusal(code: Refusal): AppError {
  switch (code) {
    case 'signature_missing':
      return new WebhookSignatureMissing();
    case 'signature_invalid':
      return new WebhookSignatureInvalid();
    case 'unsigned_delivery':
      return new WebhookUnsigned();
    case 'tenant_mismatch':
      return new WebhookTenantMismatch();
    case 'stale_delivery':
      return new WebhookStale();
    case 'future_delivery':
      return new WebhookFuture();
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every value the raw metadata gives the tenant key, read from the parsed
 * JSON before anything is cleaned: the exact key, and any key that differs
 * from it only by characters a store or a display could drop (NUL and other
 * controls, zero-width and replacement characters), so a key cannot pass this
 * check and become `calbridge_tenant` later.
 */
function namedTenants(value: unknown): unknown[] {
  if (!isRecord(value)) return [];
  const places = [value.metadata, isRecord(value.payload) ? value.payload.metadata : undefined];
  const out: unknown[] = [];
  for (const m of places) {
    if (!isRecord(m)) continue;
    for (const [k, v] of Object.entries(m)) {
      if (k === CALBRIDGE_TENANT_METADATA_KEY || k.replace(/[\u0000-\u001f\u007f\u200b-\u200f\u2060\ufeff\ufffd]|[\ud800-\udfff]/g, '') === CALBRIDGE_TENANT_METADATA_KEY) out.push(v);
    }
  }
  return out;
}

/** What the intake can tell about a verified body before applying it; every field best effort. */
interface ReadDelivery {
  /** The parsed JSON, or undefined when the body is not UTF-8 JSON. */
  value: unknown;
  webhook: CalcomWebhook | null;
  /** Why it cannot be applied (null: it can). A code, then a detail; never body text. */
  reason: string | null;
  trigger: string | null;
  bookingUid: string | null;
  createdAt: Date | null;
}

function best<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, v: unknown): T | null {
  const r = schema.safeParse(v);
  return r.success ? r.data : null;
}

function reasonText(s: string): string {
  return storableText(s).slice(0, REASON_MAX);
}

/** Reads a verified body; never throws. */
function readDelivery(body: Buffer): ReadDelivery {
  const none = { webhook: null, trigger: null, bookingUid: null, createdAt: null };
  if (!isUtf8(body)) return { ...none, value: undefined, reason: 'not_utf8: the body is not UTF-8' };
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ...none, value: undefined, reason: 'not_json: the body is not JSON' };
  }
  const top = isRecord(value) ? value : {};
  const payload = isRecord(top.payload) ? top.payload : {};
  const t = top.triggerEvent;
  const trigger = typeof t === 'string' && /^[A-Z][A-Z0-9_]{0,99}$/.test(t) ? t : null;
  const createdAtText = best(CalcomInstant, top.createdAt);
  const bookingUid = best(CalcomBookingUid, payload.uid) ?? best(CalcomBookingUid, payload.bookingUid) ?? best(CalcomBookingUid, top.uid) ?? null;
  const parsed = CalcomWebhook.safeParse(value);
  const base = { value, trigger, createdAt: createdAtText ? new Date(createdAtText) : null };
  if (!parsed.success) {
    const detail = parsed.error.issues.slice(0, 10).map((i) => `${['body', ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
    return { ...base, webhook: null, bookingUid, reason: reasonText(`invalid_payload: ${detail}`) };
  }
  const w = parsed.data;
  const uid = w.kind === 'booking' ? w.booking.uid : w.kind === 'no_show' ? w.noShow.bookingUid : w.kind === 'meeting' ? w.bookingUid : bookingUid;
  return { ...base, webhook: w, bookingUid: uid, reason: null };
}

/**
 * The refusal a verified delivery earns, judged at `at` (its arrival), or null.
 * Staleness is judged by the envelope's createdAt, except for MEETING_STARTED /
 * MEETING_ENDED: their createdAt is the booking's creation (scheduleTrigger.ts),
 * so they are never stale. A replay of one changes nothing: the same bytes are a
 * duplicate, and its event (uid, trigger, meeting time) is recorded once.
 */
function refusalOf(read: ReadDelivery, tenantSlug: string, at: Date, config: { webhookReplayWindowSeconds: number; webhookFutureSkewSeconds: number }): Refusal | null {
  for (const named of namedTenants(read.value)) if (named !== null && named !== tenantSlug) return 'tenant_mismatch';
  const now = at.getTime();
  if (read.createdAt && read.createdAt.getTime() > now + config.webhookFutureSkewSeconds * 1000) return 'future_delivery';
  const scheduled = read.trigger === 'MEETING_STARTED' || read.trigger === 'MEETING_ENDED';
  if (!scheduled && read.createdAt && read.createdAt.getTime() < now - config.webhookReplayWindowSeconds * 1000) return 'stale_delivery';
  return null;
}

/** The reason to keep a delivery unprocessed when applying it failed for its content (or our bug), or null when the database is away (rethrown). */
function cannotApply(err: unknown): string | null {
  if (err instanceof NotApplicableYet) return err.reason;
  if (isUnavailable(err) || (err instanceof AppError && err.status >= 500)) return null;
  // A 4xx raised while projecting is about the delivery's content, never a reason to lose it.
  if (err instanceof AppError) return `apply_failed: ${err.code}`;
  const code = (err as { code?: unknown } | null)?.code;
  // A SQLSTATE about the data or the statement: the same bytes fail the same way until the code changes.
  // Any other (resources, locks, connection) is the database's state, not the delivery's: answered 5xx.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(22|23|42|2F|P0|XX)/.test(code) ? `apply_failed: database refused the projection (SQLSTATE ${code})` : null;
  if (err instanceof Error && !(err instanceof AppError)) return `apply_failed: ${err.name}`;
  return null;
}

/** A verified delivery the intake can read, on its way to the tenant's transaction. */
interface Readable {
  body: Buffer;
  receivedAt: Date;
  read: ReadDelivery & { webhook: CalcomWebhook };
  /** Its addresses, for erasure screening (found before a connection is taken). */
  emails: string[];
}

/** A readable delivery waiting in a group for its transaction, and how to answer it. */
interface Waiting extends Readable {
  done: (outcome: Exclude<IngestOutcome, { refused: Refusal }>) => void;
  fail: (err: unknown) => void;
}

/** Orders a group's deliveries by the booking they are about (those about none last). */
function byBooking(a: Readable, b: Readable): number {
  const x = a.read.bookingUid;
  const y = b.read.bookingUid;
  return x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
}

/** A failure that says other transactions held what this one needed (deadlock, serialisation, lock wait), not that the database is away. */
function contention(err: unknown): boolean {
  const cause = err instanceof DatabaseUnavailable ? err.cause : err;
  const code = (cause as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001' || code === '55P03';
}

/** At most this many deliveries share one transaction: bounds its length and what one failure sends back to be stored alone. */
const MAX_GROUP = 16;

/** Refusal rows written per tenant per minute; the rest only counted. In memory, per instance. */
function refusalSampler(perMinute: number) {
  const windows = new Map<string, { start: number; n: number }>();
  return (tenantId: string, now: number): boolean => {
    const w = windows.get(tenantId);
    if (!w || now - w.start >= 60_000) {
      if (!w && windows.size >= TENANT_CACHE_SIZE) windows.delete(windows.keys().next().value!);
      windows.set(tenantId, { start: now, n: 1 });
      return perMinute >= 1;
    }
    w.n += 1;
    return w.n <= perMinute;
  };
}

/**
 * The Cal.com webhook intake: verify, then store every verified delivery and
 * apply it to the bookings in one tenant transaction; answer only after it
 * commits. What cannot be applied is stored as `unprocessed` with a reason.
 */
export function createWebhooksService(ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'logger' | 'metrics' | 'keyring'>, tenants: TenantsService) {
  const { db, clock, config, logger } = ctx;
  // A delivery about someone erased (GDPR) is stored and projected pseudonymised.
  const erasure = createErasureGuard(ctx);
  const metrics = webhookMetrics(ctx.metrics.registry);
  const log = logger.child({ component: 'webhooks' });
  const sampleRefusal = refusalSampler(config.webhookRefusalLogPerMinute);

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
    let found;
    try {
      found = await tenants.find(key);
    } catch (err) {
      // While the database is away, a tenant seen before is still that tenant (slugs never change),
      // so its verified deliveries can reach the spool.
      if (hit && err instanceof DatabaseUnavailable) return hit.tenant;
      throw err;
    }
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
    let secrets: string[];
    try {
      secrets = await db.withTenant(tenantId, (tx) => tenants.webhookSecrets(tx, tenantId));
    } catch (err) {
      // While the database is away the last secrets read still verify (never for longer than the
      // outage: the first answer after it replaces them). Without any, nothing can be verified: 503.
      if (hit && err instanceof DatabaseUnavailable) return checkCalcomSignature(body, signature, hit.secrets);
      throw err;
    }
    secretsCache.delete(tenantId);
    if (secretsCache.size >= TENANT_CACHE_SIZE) secretsCache.delete(secretsCache.keys().next().value!);
    secretsCache.set(tenantId, { secrets, until: now + SECRETS_CACHE_MS });
    return checkCalcomSignature(body, signature, secrets);
  }

  type Stored = Exclude<IngestOutcome, { refused: Refusal }>;
  const inboxRow = (tenantId: string, body: Buffer, receivedAt: Date, read: ReadDelivery, status: repo.InboxStatus, reason: string | null, stored: Buffer): repo.InboxRow & { id: string } => ({
    // The delivery identity stays the hash of the bytes Cal.com signed, so a retry of a pseudonymised delivery is still a duplicate.
    id: randomUUID(), tenantId, bodySha256: createHash('sha256').update(body).digest(), trigger: read.trigger, bookingUid: read.bookingUid, receivedAt, body: stored,
    status, reason, processorVersion: WEBHOOK_PROCESSOR_VERSION,
    // Only an applied delivery takes part in the event identity (trigger, uid, createdAt): one kept
    // unprocessed must not turn a later, readable delivery of the same event into a duplicate.
    eventCreatedAt: status === 'processed' ? read.createdAt : null,
  });

  /** Stores a delivery that cannot be applied as `unprocessed` with its reason, in a transaction of its own. */
  async function keep(tenantId: string, body: Buffer, receivedAt: Date, read: ReadDelivery, reason: string): Promise<Stored> {
    const emails = deliveryEmails(body, null);
    return db.withTenant(tenantId, async (tx, opened) => {
      const screened = await erasure.screenDelivery(tx, tenantId, body, null, { emails, anyErased: anyErasedFromOpening(opened) });
      const ids = await repo.insertInbox(tx, inboxRow(tenantId, body, receivedAt, read, 'unprocessed', reason, screened.body));
      return ids
        ? ({ duplicate: false, trigger: read.trigger, deliveryId: ids.deliveryId, status: 'unprocessed', reason } as const)
        : ({ duplicate: true, trigger: read.trigger } as const);
    }, deliveryScreenOpening(tenantId, emails) ?? undefined);
  }

  /** A readable delivery (screened for erased people), stored and applied inside the tenant's transaction `tx`. */
  async function storeIn(tx: Tx, tenantId: string, d: Readable, anyErased: boolean | undefined, deferred?: DeferredJobs): Promise<Stored> {
    const { body, receivedAt, read, emails } = d;
    const screened = await erasure.screenDelivery(tx, tenantId, body, read.webhook, { emails, anyErased });
    const stored = inboxRow(tenantId, body, receivedAt, read, 'processed', null, screened.body);
    if (!screened.webhook) {
      // Pseudonymised into something the schema no longer reads: stored, nothing applied.
      const ids = await repo.insertInbox(tx, stored);
      return ids
        ? { duplicate: false, trigger: read.trigger, deliveryId: ids.deliveryId, status: 'processed', reason: null }
        : { duplicate: true, trigger: read.trigger };
    }
    // Stored and applied in one statement for a booking delivery; a duplicate applies nothing.
    const done = await applyCalcomWebhookAfter(tx, tenantId, screened.webhook, stored.id, receivedAt, repo.inboxWrites(stored), deferred);
    if (!done.passed) return { duplicate: true, trigger: read.trigger };
    return { duplicate: false, trigger: read.trigger, deliveryId: String(done.row.deliveryId), status: 'processed', reason: null };
  }

  /** What a failed transaction leaves a delivery: kept unprocessed when applying it failed for its content, else the error. */
  async function afterFailure(tenantId: string, d: Readable, err: unknown): Promise<Stored> {
    const reason = cannotApply(err);
    if (!reason) throw err;
    log.warn({ tenantId, trigger: d.read.trigger, reason }, 'webhook delivery kept unprocessed');
    return keep(tenantId, d.body, d.receivedAt, d.read, reasonText(reason));
  }

  /** One readable delivery in a transaction of its own. */
  async function storeAlone(tenantId: string, d: Readable): Promise<Stored> {
    try {
      return await db.withTenant(tenantId, (tx, opened) => storeIn(tx, tenantId, d, anyErasedFromOpening(opened)), deliveryScreenOpening(tenantId, d.emails) ?? undefined);
    } catch (err) {
      return afterFailure(tenantId, d, err);
    }
  }

  // Group commit (decision 0024). Deliveries of one tenant that wait for a connection at the same
  // time share its transaction: one opening round trip and one COMMIT for the group, each delivery
  // still its own statement and answered only after that COMMIT. A group is one tenant's (the
  // transaction's RLS setting is that tenant's), so isolation is what it is for a single delivery.
  // It takes joiners only until its connection is ready: nothing waits for a group to fill.
  const open = new Map<string, Waiting[]>();
  function storeGrouped(tenantId: string, d: Readable): Promise<Stored> {
    return new Promise((done, fail) => {
      metrics.commitWaiting.inc();
      const item = { ...d, done, fail };
      const group = open.get(tenantId);
      if (group && group.length < MAX_GROUP) {
        group.push(item);
        return;
      }
      const fresh = [item];
      open.set(tenantId, fresh);
      void commitGroup(tenantId, fresh);
    });
  }

  async function commitGroup(tenantId: string, group: Waiting[]): Promise<void> {
    const close = () => {
      if (open.get(tenantId) === group) open.delete(tenantId);
    };
    let outcomes: Stored[];
    try {
      // The erasure lock and check always ride in the opening: who joins is not known yet.
      outcomes = await db.withTenant(tenantId, async (tx, opened) => {
        close();
        metrics.commitWaiting.dec(group.length);
        metrics.commitGroup.observe(group.length);
        const anyErased = anyErasedFromOpening(opened);
        // In booking order: concurrent groups then lock their bookings in one order and cannot deadlock over them.
        const order = group.map((d, i) => i).sort((a, b) => byBooking(group[a]!, group[b]!));
        const out: Stored[] = new Array<Stored>(group.length);
        // A group's booking.changed jobs are queued in one call before its COMMIT (decision 0031);
        // a delivery alone keeps its job in its own statement (one round trip fewer).
        const deferred: DeferredJobs | undefined = group.length > 1 ? [] : undefined;
        for (const i of order) out[i] = await storeIn(tx, tenantId, group[i]!, anyErased, deferred);
        if (deferred && deferred.length > 0) await queueDeferredJobs(tx, deferred);
        return out;
      }, lockThenCheckSql(tenantId));
    } catch (err) {
      if (open.get(tenantId) === group) {
        // Failed before the transaction began (no connection): nobody was counted out yet.
        close();
        metrics.commitWaiting.dec(group.length);
      }
      if (group.length === 1 || ((err instanceof DatabaseUnavailable || isUnavailable(err)) && !contention(err))) {
        // One delivery, or the database away (each goes to the spool): as a lone transaction would.
        for (const d of group) void afterFailure(tenantId, d, err).then(d.done, d.fail);
      } else {
        // The group rolled back for one delivery's content, or met another transaction's locks
        // (a deadlock, a lock wait past its deadline): each in a transaction of its own, so one that
        // cannot be applied is kept unprocessed and the others are stored as if alone.
        for (const d of group) void storeAlone(tenantId, d).then(d.done, d.fail);
      }
      return;
    }
    group.forEach((d, i) => d.done(outcomes[i]!));
  }

  /**
   * Stores a verified body (screened for erased people) and, when it can be
   * read, applies it in the same transaction. A failure to apply rolls back
   * and stores it again as `unprocessed`; only the database being away throws.
   */
  async function store(tenantId: string, body: Buffer, receivedAt: Date, read: ReadDelivery): Promise<Stored> {
    if (!read.webhook) return keep(tenantId, body, receivedAt, read, read.reason ?? 'invalid_payload');
    // The addresses screening looks up are found before a connection is taken.
    return storeGrouped(tenantId, { body, receivedAt, read: read as Readable['read'], emails: deliveryEmails(body, read.webhook) });
  }

  /**
   * Takes a delivery whose signature was verified for this tenant: refuses it
   * only for tenant mismatch, staleness or a future date (judged at
   * `receivedAt`), otherwise stores it and applies what it can. The entry point
   * for anything that holds verified bytes to apply later (e.g. a local spool
   * written while the database was away): same checks, same storage, same
   * idempotency (the bytes are the identity).
   */
  async function ingestVerified(tenant: { id: string; slug: string }, body: Buffer, receivedAt: Date): Promise<IngestOutcome> {
    const read = readDelivery(body);
    const refused = refusalOf(read, tenant.slug, receivedAt, config);
    if (refused) return { refused, trigger: read.trigger };
    return store(tenant.id, body, receivedAt, read);
  }

  /** One line for a refused delivery, within the sample budget; otherwise the same cost with no row (timing does not tell). */
  async function logRefusal(tenantId: string, receivedAt: Date, trigger: string | null, code: Refusal): Promise<void> {
    const outcome = code === 'stale_delivery' ? 'stale' : 'rejected';
    if (sampleRefusal(tenantId, performance.now())) {
      await db.withTenant(tenantId, (tx) => repo.insertDelivery(tx, { tenantId, receivedAt, trigger, outcome, code, inboxId: null }));
    } else {
      await db.withTenant(NO_TENANT, (tx) => repo.insertNoDelivery(tx, receivedAt));
    }
  }

  // Verified deliveries that cannot reach the database wait here, durably, and are acknowledged:
  // Cal.com never sends a delivery again once we answered it with an error (webhooks.spool.ts).
  const spool = createSpool({ dir: config.webhookSpool.dir, maxBytes: config.webhookSpool.maxBytes });
  metrics.spoolWaiting.set(spool.size().entries);
  let drainTimer: NodeJS.Timeout | null = null;
  let draining: Promise<void> | null = null;
  const scheduleDrain = (delayMs: number) => {
    if (drainTimer || draining) return;
    drainTimer = setTimeout(() => {
      drainTimer = null;
      void drainSpool();
    }, delayMs);
    // Never what keeps a process alive; a spool left at exit is drained by the next start.
    drainTimer.unref();
  };

  function toSpool(tenant: { id: string; slug: string }, body: Buffer, receivedAt: Date): void {
    try {
      spool.append({ tenantId: tenant.id, tenantSlug: tenant.slug, receivedAt, body });
    } catch (err) {
      metrics.spool.inc({ event: 'full' });
      log.error({ tenant: tenant.slug, err: (err as Error).message }, 'webhook spool cannot take a verified delivery: answered 503, only reconciliation can heal it');
      throw new DatabaseUnavailable(err);
    }
    metrics.spool.inc({ event: 'spooled' });
    metrics.spoolWaiting.set(spool.size().entries);
    log.warn({ tenant: tenant.slug }, 'database unavailable: verified delivery spooled');
    scheduleDrain(1_000);
  }

  /**
   * Stores what the spool holds, oldest first, through the same path as a live delivery (same
   * checks, judged at the time it arrived; same idempotency). Stops at the first sign the
   * database is still away and tries again shortly.
   */
  function drainSpool(): Promise<void> {
    draining ??= (async () => {
      try {
        for (;;) {
          const batch = spool.list(50);
          if (batch.length === 0) return;
          for (const d of batch) {
            try {
              const out = await ingestVerified({ id: d.tenantId, slug: d.tenantSlug }, d.body, d.receivedAt);
              if ('refused' in out) log.warn({ tenant: d.tenantSlug, code: out.refused }, 'spooled delivery refused when stored');
              spool.remove(d.id);
              metrics.spool.inc({ event: 'drained' });
            } catch (err) {
              if (err instanceof DatabaseUnavailable || isUnavailable(err)) {
                scheduleDrainAfter = 2_000;
                return;
              }
              // Not the database being away: this entry cannot be applied. Out of the way, kept for a person.
              log.error({ tenant: d.tenantSlug, err: (err as Error).message }, 'spooled delivery set aside');
              spool.setAside(d.id);
              metrics.spool.inc({ event: 'set_aside' });
            } finally {
              metrics.spoolWaiting.set(spool.size().entries);
            }
          }
        }
      } finally {
        draining = null;
        if (scheduleDrainAfter !== null) {
          const delay = scheduleDrainAfter;
          scheduleDrainAfter = null;
          scheduleDrain(delay);
        }
      }
    })();
    return draining;
  }
  let scheduleDrainAfter: number | null = null;
  // What a previous run left in the spool is stored as soon as the database answers.
  if (spool.size().entries > 0) scheduleDrain(0);

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

      const check = await verify(tenant.id, body, signature);
      let outcome: IngestOutcome;
      if (check !== 'valid') outcome = { refused: check, trigger: null };
      else {
        try {
          outcome = await ingestVerified(tenant, body, receivedAt);
        } catch (err) {
          // Verified and not refused, but the database is away: keep it and acknowledge it.
          if (!(err instanceof DatabaseUnavailable)) throw err;
          toSpool(tenant, body, receivedAt);
          count('spooled', null, started);
          return { duplicate: false, spooled: true };
        }
        // The database answers again: store what waited meanwhile.
        if (spool.size().entries > 0) scheduleDrain(0);
      }

      if ('refused' in outcome) {
        const code = outcome.refused;
        await logRefusal(tenant.id, receivedAt, outcome.trigger, code);
        count(code === 'stale_delivery' ? 'stale' : 'rejected', code, started);
        log.info({ tenant: tenant.slug, code, trigger: outcome.trigger }, 'webhook delivery refused');
        throw refusal(code);
      }
      if (outcome.duplicate) count('duplicate', null, started);
      else if (outcome.status === 'unprocessed') count('unprocessed', outcome.reason?.split(':')[0] ?? 'unknown', started);
      else count('accepted', null, started);
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

  /** Applies a stored delivery inside `tx` (row locked); the outcome to record. */
  async function applyStored(tx: Tx, tenantId: string, stored: repo.StoredDelivery): Promise<{ status: repo.InboxStatus; reason: string | null; body?: Buffer }> {
    const read = readDelivery(stored.body);
    if (!read.webhook) return { status: 'unprocessed', reason: read.reason };
    const screened = await erasure.screenDelivery(tx, tenantId, stored.body, read.webhook);
    if (screened.webhook) await applyCalcomWebhook(tx, tenantId, screened.webhook, stored.inboxId, clock.now());
    return { status: 'processed', reason: null, ...(screened.pseudonymised ? { body: screened.body } : {}) };
  }

  /**
   * Tries a stored delivery again with today's processor: `processed` when it
   * applies now, `unprocessed` with the current reason when it still cannot.
   * An already processed delivery is left as it is.
   */
  async function reprocess(tenantId: string, deliveryId: string): Promise<{ id: string; status: repo.InboxStatus; reason: string | null; changed: boolean }> {
    const now = clock.now();
    const attempt = async () =>
      db.withTenant(tenantId, async (tx) => {
        const stored = await repo.storedDeliveryForUpdate(tx, deliveryId);
        if (stored === null) throw new DeliveryNotFound();
        if (stored === 'not_stored') throw new DeliveryNotStored();
        if (stored.status === 'processed') return { id: deliveryId, status: stored.status, reason: null, changed: false };
        const result = await applyStored(tx, tenantId, stored);
        await repo.markInbox(tx, stored.inboxId, { ...result, processorVersion: WEBHOOK_PROCESSOR_VERSION, now });
        return { id: deliveryId, status: result.status, reason: result.reason, changed: result.status !== stored.status };
      });
    try {
      const r = await attempt();
      metrics.reprocessed.inc({ status: r.status });
      return r;
    } catch (err) {
      if (err instanceof DeliveryNotFound || err instanceof DeliveryNotStored) throw err;
      const reason = cannotApply(err);
      if (!reason) throw err;
      // Applying failed and rolled back: record why, under the current version, so the next upgrade tries again.
      const text = reasonText(reason);
      await db.withTenant(tenantId, async (tx) => {
        const stored = await repo.storedDeliveryForUpdate(tx, deliveryId);
        if (stored && stored !== 'not_stored') await repo.markInbox(tx, stored.inboxId, { status: 'unprocessed', reason: text, processorVersion: WEBHOOK_PROCESSOR_VERSION, now });
      });
      metrics.reprocessed.inc({ status: 'unprocessed' });
      return { id: deliveryId, status: 'unprocessed', reason: text, changed: false };
    }
  }

  /**
   * After an upgrade: tries every `unprocessed` delivery that an older
   * processor version left, tenant by tenant, oldest first. Each attempt
   * records the current version, so a delivery is tried once per version.
   */
  async function reprocessOutdated(): Promise<{ tried: number; processed: number }> {
    let tried = 0;
    let processed = 0;
    let cursor: string | null = null;
    do {
      const page = await tenants.list({ limit: 200, cursor });
      for (const t of page.data) {
        for (;;) {
          const ids = await db.withTenant(t.id, (tx) => repo.outdatedUnprocessed(tx, WEBHOOK_PROCESSOR_VERSION, 100));
          if (ids.length === 0) break;
          for (const id of ids) {
            const r = await reprocess(t.id, id);
            tried += 1;
            if (r.status === 'processed') processed += 1;
          }
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (tried > 0) log.info({ tried, processed, version: WEBHOOK_PROCESSOR_VERSION }, 'unprocessed webhook deliveries tried again after an upgrade');
    return { tried, processed };
  }

  return { receive, ingestVerified, deliveries, reprocess, reprocessOutdated, drainSpool, spooled: () => spool.size() };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
