import type { AppContext } from '../context.js';
import { type BookingRecord } from '../bookings/bookings.service.js';
import { applyBookingEvent, findBookingState, healBooking, type BookingEvent } from '../bookings/bookings.projection.js';
import { createErasureGuard } from '../gdpr/erasure-guard.js';
import { CalcomNeedsReauth, CalcomNotConnected } from './calcom.errors.js';
import { enqueue } from '../jobs/queue.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { BookingOutput } from './bookings.js';
import { calcomMetrics } from './calcom.metrics.js';
import type { CalcomClient } from './client.js';
import * as repo from './connections.repository.js';
import type { TokenVault } from './token-vault.js';

/** Cron task: fans out one reconcile job per tenant. graphile-worker's crontab takes no dots in task names. */
export const RECONCILE_ALL_TASK = 'calcom_reconcile_all';
/** Job: reconciles one tenant. Payload `{ tenantId }`. */
export const RECONCILE_TENANT_TASK = 'calcom.reconcile.tenant';
/** graphile-worker crontab line: every 15 minutes. */
export const RECONCILE_CRONTAB = `*/15 * * * * ${RECONCILE_ALL_TASK}`;

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
export function createReconciliation(ctx: Pick<AppContext, 'db' | 'clock' | 'logger' | 'metrics' | 'keyring'>, deps: { calcom: CalcomClient; vault: TokenVault; tenants: TenantsService }) {
  const { db, clock, logger } = ctx;
  // Bookings of someone erased (GDPR) come back from Cal.com with their data; they are applied pseudonymised.
  const erasure = createErasureGuard(ctx);
  const metrics = calcomMetrics(ctx.metrics.registry);

  async function reconcileTenant(tenantId: string): Promise<ReconcileResult> {
    const conn = await db.withTenant(tenantId, (tx) => repo.findConnection(tx, tenantId));
    if (!conn) throw new CalcomNotConnected();
    if (conn.status !== 'connected') throw new CalcomNeedsReauth();
    const since = conn.lastSyncedAt ? new Date(conn.lastSyncedAt.getTime() - OVERLAP_MS).toISOString() : undefined;
    const result: ReconcileResult = { checked: 0, created: 0, updated: 0, skipped: 0 };
    let newest = conn.lastSyncedAt?.getTime() ?? 0;
    for (let skip = 0; ; skip += PAGE) {
      const page = await deps.vault.withCredentials(tenantId, ({ auth }) =>
        deps.calcom.bookings.list(auth, { ...(since ? { afterUpdatedAt: since } : {}), sortUpdatedAt: 'asc', take: PAGE, skip }),
      );
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
      }
      if (!page.hasNextPage || page.items.length === 0) break;
    }
    // Cal.com's own clock marks how far we got, so a skewed clock here cannot skip a change.
    if (newest > 0) await db.withTenant(tenantId, (tx) => repo.setLastSynced(tx, tenantId, new Date(newest)));
    logger.info({ component: 'calcom', tenantId, ...result }, 'reconciled bookings');
    return result;
  }

  /** Cron: one job per tenant (each checks its own connection under row-level security). */
  async function enqueueAll(): Promise<number> {
    let cursor: string | null = null;
    let n = 0;
    for (;;) {
      const page = await deps.tenants.list({ limit: 200, cursor });
      for (const t of page.data) {
        await db.withTenant(t.id, (tx) => enqueue(tx, RECONCILE_TENANT_TASK, { tenantId: t.id }, { jobKey: `calcom-reconcile:${t.id}`, maxAttempts: 3 }));
        n += 1;
      }
      if (!page.nextCursor) return n;
      cursor = page.nextCursor;
    }
  }

  /** The job: quiet for tenants without a usable connection. */
  async function reconcileJob(tenantId: string): Promise<void> {
    try {
      await reconcileTenant(tenantId);
    } catch (err) {
      if (err instanceof CalcomNotConnected || err instanceof CalcomNeedsReauth) return;
      throw err;
    }
  }

  return { reconcileTenant, enqueueAll, reconcileJob };
}
