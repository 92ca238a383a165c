import type { AppContext } from '../context.js';
import { type BookingRecord } from '../bookings/bookings.service.js';
import { applyBookingEvent, findBookingState, healBooking, type BookingEvent } from '../bookings/bookings.projection.js';
import { createErasureGuard } from '../gdpr/erasure-guard.js';
import { CalcomNeedsReauth, CalcomNotConnected, CalcomRateLimited, CalcomRefreshBudgetSpent } from './calcom.errors.js';
import { enqueue } from '../jobs/queue.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { BookingOutput } from './bookings.js';
import { calcomMetrics } from './calcom.metrics.js';
import type { CalcomClient } from './client.js';
import * as repo from './connections.repository.js';
import { RateBudget } from './reconciliation.budget.js';
import type { TokenVault } from './token-vault.js';

/** Cron task: fans out one reconcile job per tenant. graphile-worker's crontab takes no dots in task names. */
export const RECONCILE_ALL_TASK = 'calcom_reconcile_all';
/** Job: reconciles one tenant. Payload `{ tenantId }`. */
export const RECONCILE_TENANT_TASK = 'calcom.reconcile.tenant';
/** graphile-worker crontab line: every `minutes` (a divisor of 60, config.ts), 15 by default. */
export const reconcileCrontab = (minutes: number) => `*/${minutes} * * * * ${RECONCILE_ALL_TASK}`;
/**
 * The share of the interval the pass's starts are spread over: the last tenant starts with a fifth
 * of the interval left to finish, and for work put off past a rate-limit reset.
 */
const SPREAD_SHARE = 0.8;
/**
 * How often one tenant's pass may be put off before it is left to the next pass (which starts from
 * the progress saved): nothing waits forever, and a tenant whose budget never comes back is seen.
 */
const MAX_DEFERRALS = 20;

/** The trigger name reconciliation records events under (booking_events.trigger_event). */
export const RECONCILED_TRIGGER = 'RECONCILED';
/** Bookings updated this long before the last one seen are read again (clock skew, same-millisecond updates). */
const OVERLAP_MS = 5 * 60 * 1000;
const PAGE = 100;

export interface ReconcileResult {
  checked: number;
  created: number;
  updated: number;
  /** Items of Cal.com's answer we could not read: logged (no personal data), counted, skipped. */
  skipped: number;
  /**
   * Set when Cal.com's rate limit stopped the pass before the end: the time (ISO) it takes calls
   * again. What was read is kept (last_synced_at); the job goes on from there at that time.
   */
  deferredUntil?: string;
}

/**
 * A Cal.com booking, read through API v2, as the same booking event the webhook intake would record.
 * Takes the loose real outputs (bookings.ts): a null `updatedAt` means "not changed since creation",
 * a host `{ id: "unknown" }` (no user) is no organizer, `cancellationReason: ""` is none.
 */
export function eventFromBookingOutput(b: BookingOutput): BookingEvent {
  const host = b.hosts[0];
  const organizer =
    host && typeof host.id === 'number'
      ? { id: host.id, name: host.name ?? null, email: host.email ?? null, username: host.username ?? null, timeZone: host.timeZone ?? null }
      : null;
  return {
    source: 'reconciliation',
    trigger: RECONCILED_TRIGGER,
    occurredAt: new Date(b.updatedAt ?? b.createdAt),
    inboxId: null,
    uid: b.uid,
    status: b.status,
    fields: {
      calcomId: b.id,
      title: b.title ?? null,
      startTime: new Date(b.start),
      endTime: new Date(b.end),
      eventTypeId: b.eventTypeId ?? null,
      // Webhook payloads name no-shows only once someone was marked absent; so do we.
      attendees: b.attendees.map((a) => ({ name: a.name ?? null, email: a.email, timeZone: a.timeZone ?? null, ...(a.absent ? { noShow: true } : {}) })),
      organizer,
      // Cal.com's webhooks add the meeting link to metadata as videoCallUrl; so the projection matches, we do too.
      metadata: b.meetingUrl ? { videoCallUrl: b.meetingUrl, ...(b.metadata ?? {}) } : (b.metadata ?? null),
      rescheduledFromUid: b.rescheduledFromUid ?? null,
      rescheduledToUid: b.rescheduledToUid ?? null,
      cancellationReason: b.cancellationReason ? b.cancellationReason : null,
    },
  };
}

/** Where an unreadable item failed: paths and issue codes only, never values (they may be personal data). */
function unreadableWhere(error: { issues: Array<{ path: PropertyKey[]; code: string }> }): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}:${i.code}`)
    .join(',');
}

/**
 * What reconciliation heals besides the status: metadata keys Cal.com has that we lack or hold with
 * another value (merged in, never removing ours), and attendees whose no-show flag differs from Cal.com's.
 */
function healsFor(ours: BookingRecord, e: BookingEvent): { metadata: Record<string, unknown> | null; noShow: Map<string, boolean> } {
  const stored = ours.metadata ?? {};
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.fields.metadata ?? {})) {
    if (JSON.stringify(stored[k]) !== JSON.stringify(v)) patch[k] = v;
  }
  const noShow = new Map<string, boolean>();
  const theirs = new Map((e.fields.attendees ?? []).map((a) => [a.email.toLowerCase(), a.noShow === true]));
  for (const a of ours.attendees) {
    const absent = theirs.get(a.email.toLowerCase());
    if (absent !== undefined && absent !== (a.noShow === true)) noShow.set(a.email.toLowerCase(), absent);
  }
  return { metadata: Object.keys(patch).length ? patch : null, noShow };
}

/** True when what we hold already says what Cal.com says. */
function sameState(ours: BookingRecord, e: BookingEvent): boolean {
  const t = (d: Date | null) => d?.getTime() ?? null;
  return (
    ours.status === e.status &&
    t(ours.startTime) === t(e.fields.startTime) &&
    t(ours.endTime) === t(e.fields.endTime) &&
    (e.fields.rescheduledToUid === null || ours.rescheduledToUid === e.fields.rescheduledToUid)
  );
}

/**
 * Heals what webhooks missed: lists the tenant's bookings Cal.com changed
 * since the last run and applies each one that differs from ours through the
 * same projection as the webhook intake (bookings.service applyBookingEvent).
 */
export function createReconciliation(
  ctx: Pick<AppContext, 'db' | 'clock' | 'logger' | 'metrics' | 'keyring' | 'config'>,
  deps: { calcom: CalcomClient; vault: TokenVault; tenants: TenantsService },
  /** Page size of Cal.com's list (100 by default; tests make it small to see the budget run out). */
  options: { pageSize?: number } = {},
) {
  const { db, clock, logger } = ctx;
  const pageSize = options.pageSize ?? PAGE;
  const intervalMs = ctx.config.reconcile.intervalMinutes * 60_000;
  // Bookings of someone erased (GDPR) come back from Cal.com with their data; they are applied pseudonymised.
  const erasure = createErasureGuard(ctx);
  const metrics = calcomMetrics(ctx.metrics.registry);

  /**
   * One pass, or the rest of one put off by the rate limit: `resumeAfter` is where that one stopped
   * (the newest change it had read), so the rest starts there without re-reading the overlap.
   */
  async function pass(tenantId: string, resumeAfter?: string): Promise<{ result: ReconcileResult; resumeAfter?: string }> {
    const conn = await db.withTenant(tenantId, (tx) => repo.findConnection(tx, tenantId));
    if (!conn) throw new CalcomNotConnected();
    if (conn.status !== 'connected') throw new CalcomNeedsReauth();
    const since = resumeAfter ?? (conn.lastSyncedAt ? new Date(conn.lastSyncedAt.getTime() - OVERLAP_MS).toISOString() : undefined);
    const result: ReconcileResult = { checked: 0, created: 0, updated: 0, skipped: 0 };
    let newest = conn.lastSyncedAt?.getTime() ?? 0;
    let newestRead: number | undefined;
    const budget = new RateBudget(() => clock.now().getTime(), ctx.config.reconcile.reservePercent);
    let deferred: { until: Date; reason: 'budget' | 'refused' | 'shared_budget' } | null = null;
    for (let skip = 0; ; skip += pageSize) {
      // Cal.com said the budget is down to what we leave for visitors: no call before its reset.
      const until = budget.blockedUntil();
      if (until) {
        deferred = { until, reason: 'budget' };
        break;
      }
      let page: Awaited<ReturnType<CalcomClient['bookings']['list']>>;
      try {
        // Background: it refreshes ahead of the next pass and leaves the shared budget's reserve to visitors.
        page = await deps.vault.withCredentials(
          tenantId,
          ({ auth }) => deps.calcom.bookings.list(auth, { ...(since ? { afterUpdatedAt: since } : {}), sortUpdatedAt: 'asc', take: pageSize, skip }, budget),
          'background',
        );
      } catch (err) {
        // The token needs a refresh and the budget of refreshes shared by every tenant is spent: no
        // call was made; the pass goes on when the budget has room (decision 0030).
        if (err instanceof CalcomRefreshBudgetSpent) {
          deferred = { until: new Date(Math.max(err.until.getTime(), clock.now().getTime() + 1000)), reason: 'shared_budget' };
          break;
        }
        // A 429 (someone else spent the budget, or a token refresh was refused) carries no Retry-After;
        // its reset header is the block's end. This page is read again then, nothing is lost.
        if (!(err instanceof CalcomRateLimited)) throw err;
        deferred = { until: new Date(clock.now().getTime() + Math.max(1, err.retryAfterSeconds) * 1000 + 1000), reason: 'refused' };
        break;
      }
      // Item by item: a booking we cannot read is logged, counted and skipped; the page goes on.
      for (const [index, item] of page.items.entries()) {
        const parsed = BookingOutput.safeParse(item);
        if (!parsed.success) {
          result.skipped += 1;
          metrics.reconciled.inc({ result: 'unreadable' });
          logger.warn({ component: 'calcom', tenantId, position: skip + index, where: unreadableWhere(parsed.error) }, 'reconciliation skipped a booking it cannot read');
          continue;
        }
        const b = parsed.data;
        const event = eventFromBookingOutput(b);
        const outcome = await db.withTenant(tenantId, async (tx) => {
          const screened = await erasure.screenEvent(tx, tenantId, event);
          const ours = await findBookingState(tx, b.uid);
          if (!ours) {
            await applyBookingEvent(tx, tenantId, screened, clock.now());
            return 'created' as const;
          }
          let changed = false;
          if (!sameState(ours, screened)) changed = (await applyBookingEvent(tx, tenantId, screened, clock.now())).applied;
          // Metadata keys and no-shows are healed whatever the order of events (bookings.service healBooking).
          const now = await findBookingState(tx, b.uid);
          if (now) changed = (await healBooking(tx, tenantId, b.uid, healsFor(now, screened), clock.now())) || changed;
          return changed ? ('updated' as const) : ('unchanged' as const);
        });
        result.checked += 1;
        if (outcome !== 'unchanged') result[outcome] += 1;
        metrics.reconciled.inc({ result: outcome });
        newest = Math.max(newest, Date.parse(b.updatedAt ?? b.createdAt));
        newestRead = Math.max(newestRead ?? 0, Date.parse(b.updatedAt ?? b.createdAt));
      }
      if (!page.hasNextPage || page.items.length === 0) break;
    }
    // Cal.com's own clock marks how far we got, so a skewed clock here cannot skip a change. Pages
    // come oldest change first, so a pass put off half-way goes on from here (less the overlap).
    if (newest > 0) await db.withTenant(tenantId, (tx) => repo.setLastSynced(tx, tenantId, new Date(newest)));
    if (deferred) {
      result.deferredUntil = deferred.until.toISOString();
      metrics.reconcileDeferred.inc({ reason: deferred.reason });
      logger.info(
        { component: 'calcom', tenantId, ...result, reason: deferred.reason, answers: budget.seen.answers, refused: budget.seen.refused },
        'reconciliation stopped at Cal.com rate limit; it goes on after the reset',
      );
      // Changes come oldest first and `afterUpdatedAt` includes its bound: what is left starts at the
      // newest change read (a change made meanwhile has a later time, so it is still ahead).
      const from = newestRead !== undefined ? new Date(newestRead).toISOString() : since;
      return { result, ...(from ? { resumeAfter: from } : {}) };
    }
    logger.info({ component: 'calcom', tenantId, ...result, answers: budget.seen.answers }, 'reconciled bookings');
    return { result };
  }

  async function reconcileTenant(tenantId: string): Promise<ReconcileResult> {
    return (await pass(tenantId)).result;
  }

  const jobOptions = (tenantId: string, runAt: Date) => ({
    jobKey: `calcom-reconcile:${tenantId}`,
    // One queue per tenant: its passes never overlap, so one tenant's budget is read by one job at a time.
    queueName: `calcom-reconcile:${tenantId}`,
    runAt,
    maxAttempts: 3,
  });

  /**
   * Cron: one job per tenant (each checks its own connection under row-level security), their starts
   * spread evenly over the interval rather than all at once: tenant i of n (in slug order) starts at
   * i/n of {@link SPREAD_SHARE} of it. The cron fires once per tick across instances (graphile-worker's
   * known_crontabs), and the job key makes a second enqueue replace a pending job, never add one.
   */
  async function enqueueAll(): Promise<number> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await deps.tenants.list({ limit: 200, cursor });
      ids.push(...page.data.map((t) => t.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const start = clock.now().getTime();
    const spreadMs = intervalMs * SPREAD_SHARE;
    for (const [i, id] of ids.entries()) {
      const runAt = new Date(start + Math.floor((i * spreadMs) / ids.length));
      await db.withTenant(id, (tx) => enqueue(tx, RECONCILE_TENANT_TASK, { tenantId: id }, jobOptions(id, runAt)));
    }
    logger.info({ component: 'calcom', tenants: ids.length, spreadSeconds: Math.round(spreadMs / 1000) }, 'reconciliation pass planned');
    return ids.length;
  }

  /**
   * The job: quiet for tenants without a usable connection. Put off by Cal.com's rate limit, it
   * queues itself again for the reset instead of holding a worker while it waits.
   */
  async function reconcileJob(tenantId: string, deferrals = 0, resumeAfter?: string): Promise<ReconcileResult | null> {
    let done: Awaited<ReturnType<typeof pass>>;
    try {
      done = await pass(tenantId, resumeAfter);
    } catch (err) {
      if (err instanceof CalcomNotConnected || err instanceof CalcomNeedsReauth) return null;
      throw err;
    }
    const { result } = done;
    if (result.deferredUntil) {
      if (deferrals >= MAX_DEFERRALS) {
        metrics.reconcileDeferred.inc({ reason: 'abandoned' });
        logger.warn({ component: 'calcom', tenantId, deferrals }, 'reconciliation put off too often; the next pass goes on from what was read');
        return result;
      }
      const runAt = new Date(result.deferredUntil);
      // The payload holds ids and a time only: no personal data.
      const payload = { tenantId, deferrals: deferrals + 1, ...(done.resumeAfter ? { resumeAfter: done.resumeAfter } : {}) };
      await db.withTenant(tenantId, (tx) => enqueue(tx, RECONCILE_TENANT_TASK, payload, jobOptions(tenantId, runAt)));
    }
    return result;
  }

  return { reconcileTenant, enqueueAll, reconcileJob };
}
