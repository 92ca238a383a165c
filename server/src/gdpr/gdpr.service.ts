import {
  RETENTION_BOUNDS,
  type AuditEntry,
  type ErasureReceipt,
  type RetentionPolicy,
  type RetentionPolicyPatch,
  type RetentionStatus,
} from '@calbridge/shared';
import type { AdminPrincipal } from '../admin/admin.auth.js';
import type { Calcom } from '../calcom/calcom.js';
import { connectionSummary } from '../calcom/connection-summary.js';
import type { AppContext } from '../context.js';
import { emitCrmEvent } from '../crm/crm.outbox.js';
import { GENERIC_PLANS, type Tx } from '../db/db.js';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { CursorTime, CursorUuid, decodeCursor, encodeCursor } from '../http/cursor.js';
import { enqueue } from '../jobs/queue.js';
import type { TenantRecord } from '../tenants/tenants.service.js';
import { erasedSet, lockForErasure } from './erasure-guard.js';
import { RetentionBelowReplayWindow, RetentionConflict } from './gdpr.errors.js';
import { decodeBody, gather, subjectDocument, toConsent, toReceipt, uuidsIn } from './gdpr.export.js';
import * as repo from './gdpr.repository.js';
import { pseudonymiseBookingColumns, pseudonymiseDelivery } from './pseudonymise.js';
import { tenantHasher } from './subject.js';

/** The daily job that runs every tenant's retention (graphile crontab names cannot contain dots). */
export const RETENTION_ALL_TASK = 'gdpr_retention_all';
/** One tenant's retention run; payload `{ tenantId }`. */
export const RETENTION_TENANT_TASK = 'gdpr_retention_tenant';
/** Every day at 03:17 UTC: quiet hours, and off the hour so many installations do not start together. */
export const RETENTION_CRONTAB = `17 3 * * * ${RETENTION_ALL_TASK}`;

const DAY_MS = 86_400_000;

const DEFAULT_POLICY: RetentionPolicy = {
  rawDeliveryDays: RETENTION_BOUNDS.rawDeliveryDays.default,
  bookingDays: RETENTION_BOUNDS.bookingDays.default,
  consentReceiptDays: RETENTION_BOUNDS.consentReceiptDays.default,
  cancelFutureBookingsOnErasure: false,
};

/** Who acts, as the audit log records it (a token id, never the token). */
export interface Actor {
  kind: repo.ActorKind;
  tokenId: string | null;
  /** The person's subject at the identity provider, when a console session acted. */
  subject?: string | null;
}

export function actorOf(p: AdminPrincipal): Actor {
  if (p.person) return { kind: 'console_session', tokenId: null, subject: p.person.subject };
  return p.tokenId ? { kind: 'admin_token', tokenId: p.tokenId } : { kind: 'environment_token', tokenId: null };
}


/** Consent receipt fields an erasure keeps: the page's origin and path, no query or fragment; the referrer's origin. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '';
  }
}
function redactedReferrer(ref: string): string {
  try {
    return ref ? new URL(ref).origin : '';
  } catch {
    return '';
  }
}

export function createGdprService(ctx: AppContext, deps: { calcom: Calcom }) {
  const { db, clock, keyring, config } = ctx;
  // Operations log: ids and counts only; the subject is never named, not even by its hash.
  const log = ctx.logger.child({ component: 'gdpr' });

  function audit(tx: Tx, tenantId: string, actor: Actor, action: repo.AuditAction, subjectRef: string | null, details: Record<string, unknown>) {
    return repo.insertAudit(tx, { tenantId, at: clock.now(), actorToken: actor.tokenId, actorKind: actor.kind, actorSubject: actor.subject ?? null, action, subjectRef, details });
  }

  /**
   * Subject access (GDPR art. 15 and 20): one machine-readable document of
   * everything held about the person in this tenant, and the receipts of any
   * earlier erasure. The export itself is audited (counts only).
   */
  async function exportSubject(tenant: TenantRecord, email: string, actor: Actor) {
    const now = clock.now();
    // Generic plans: the search's ~15 statements cost more to plan than to run (decision 0039).
    return db.withTenant(tenant.id, async (tx) => {
      const hasher = await tenantHasher(tx, keyring, tenant.id, now);
      const ref = hasher.ref(email);
      const g = await gather(tx, email);
      const receipts = await repo.receiptsFor(tx, ref);
      const doc = subjectDocument({ now, tenant, email, ref, gathered: g, receipts });
      const counts = {
        bookings: doc.bookings.length,
        rawDeliveries: doc.rawDeliveries.length,
        consentReceipts: doc.consentReceipts.length,
        leads: doc.leads.length,
        crmDeliveries: doc.crmDeliveries.length,
      };
      await audit(tx, tenant.id, actor, 'subject.export', ref, counts);
      log.info({ tenant: tenant.slug, action: 'subject.export', actor: actor.tokenId ?? actor.kind, counts }, 'subject exported');
      return doc;
    }, GENERIC_PLANS);
  }

  /**
   * Erasure (GDPR art. 17). In one transaction: the person's bookings keep
   * their time and status but lose attendee data, titles, notes and free
   * metadata; raw deliveries are rewritten the same way; consent receipts
   * lose URL queries, referrers and UTM values; native booking requests of
   * their bookings or naming them, and their lead, are deleted; CRM messages about them are scrubbed
   * (unsent ones cancelled) and `subject.erased` is queued for every CRM
   * destination; their salted hash is remembered so later deliveries are
   * pseudonymised on arrival. After that commits, future bookings are
   * cancelled through Cal.com when asked. An unknown email gets a receipt
   * with zero counts.
   */
  async function eraseSubject(tenant: TenantRecord, email: string, options: { cancelFutureBookings?: boolean }, actor: Actor): Promise<ErasureReceipt> {
    const now = clock.now();
    const { receipt, future, cancel } = await db.withTenant(tenant.id, async (tx) => {
      await lockForErasure(tx, tenant.id);
      const hasher = await tenantHasher(tx, keyring, tenant.id, now);
      const policy = (await repo.findPolicy(tx)) ?? DEFAULT_POLICY;
      const cancel = options.cancelFutureBookings ?? policy.cancelFutureBookingsOnErasure;
      const g = await gather(tx, email);
      const erased = erasedSet(hasher, [email]);
      const emails = [email];

      for (const b of g.bookings) await repo.rewriteBooking(tx, b.uid, pseudonymiseBookingColumns(b, erased, emails), now);
      for (const i of g.inbox) {
        const rewritten = pseudonymiseDelivery(decodeBody(i.body), erased, emails);
        await repo.rewriteInboxBody(tx, i.id, Buffer.from(JSON.stringify(rewritten), 'utf8'));
      }
      let redacted = 0;
      for (const c of g.consents) {
        if (await repo.redactConsent(tx, c.id, redactedUrl(c.pageUrl), redactedReferrer(c.referrer), now)) redacted++;
      }
      // Their request hash is a digest of the person's answers: the rows go, not just the ones naming them.
      const nativeDeleted = await repo.deleteNativeRequests(tx, g.native.map((n) => n.idempotencyKey));
      const crmScrubbed = await repo.scrubCrmMessages(tx, g.crm.map((m) => m.id));
      const leadsDeleted = await repo.deleteLeads(tx, g.leads.map((l) => l.id));
      let eventsEmitted = 0;
      const subjectRef = hasher.ref(email);
      for (const lead of g.leads) {
        eventsEmitted += await repo.erasureDestinations(tx);
        // No email or name leaves: the lead id the CRM knows, and the salted reference.
        await emitCrmEvent(tx, { tenantId: tenant.id, type: 'subject.erased', leadId: lead.id, data: { leadId: lead.id, subjectRef } }, { now });
      }
      await repo.markErased(tx, tenant.id, hasher.hash(email), now);

      const future = g.bookings.filter((b) => b.startTime && b.startTime > now && ['accepted', 'pending', 'awaiting_host'].includes(b.status)).map((b) => b.uid);
      const receipt = await repo.insertReceipt(tx, tenant.id, {
        subjectRef,
        requestedBy: actor.tokenId,
        erasedAt: now,
        counts: {
          bookings: { pseudonymised: g.bookings.length, deleted: 0 },
          booking_events: { pseudonymised: 0, deleted: 0 },
          webhook_inbox: { pseudonymised: g.inbox.length, deleted: 0 },
          webhook_deliveries: { pseudonymised: 0, deleted: 0 },
          consent_receipts: { pseudonymised: redacted, deleted: 0 },
          observed_bookings: { pseudonymised: 0, deleted: 0 },
          calcom_booking_requests: { pseudonymised: 0, deleted: nativeDeleted },
          leads: { pseudonymised: 0, deleted: leadsDeleted },
          crm_messages: { pseudonymised: crmScrubbed, deleted: 0 },
        },
        calcom: { requested: cancel, status: cancel ? 'pending' : 'skipped: not requested', cancellations: [] },
        crm: { eventsEmitted, status: g.leads.length === 0 ? 'skipped: no lead' : eventsEmitted === 0 ? 'skipped: no destination' : 'queued' },
      });
      await audit(tx, tenant.id, actor, 'subject.erase', subjectRef, {
        receiptId: receipt.id,
        counts: Object.fromEntries(Object.entries(receipt.counts).map(([k, v]) => [k, v.pseudonymised + v.deleted])),
        cancelFutureBookings: cancel,
      });
      return { receipt, future, cancel };
    }, GENERIC_PLANS);

    log.info({ tenant: tenant.slug, action: 'subject.erase', actor: actor.tokenId ?? actor.kind, receiptId: receipt.id }, 'subject erased');
    if (!cancel) return toReceipt(receipt);
    const calcom = await cancelFuture(tenant.id, future);
    await db.withTenant(tenant.id, (tx) => repo.setReceiptCalcom(tx, receipt.id, calcom));
    log.info({ tenant: tenant.slug, receiptId: receipt.id, calcom: calcom.status, cancelled: calcom.cancellations.filter((c) => c.outcome === 'cancelled').length }, 'erasure: Cal.com cancellations');
    return toReceipt({ ...receipt, calcom });
  }

  /**
   * Asks Cal.com to cancel the person's future bookings, one by one, after the
   * erasure committed (so the BOOKING_CANCELLED deliveries this causes are
   * already recognised and stored pseudonymised). A failure is recorded on the
   * receipt and does not undo the erasure.
   */
  async function cancelFuture(tenantId: string, uids: string[]): Promise<repo.ReceiptRow['calcom']> {
    const conn = await db.withTenant(tenantId, (tx) => connectionSummary(tx, tenantId));
    if (conn.kind === 'none') return { requested: true, status: 'skipped: not connected', cancellations: [] };
    if (conn.status !== 'connected') return { requested: true, status: 'skipped: needs reauthorisation', cancellations: [] };
    if (uids.length === 0) return { requested: true, status: 'skipped: no future bookings', cancellations: [] };
    const cancellations: repo.ReceiptRow['calcom']['cancellations'] = [];
    for (const uid of uids) {
      try {
        await deps.calcom.vault.withCredentials(tenantId, (c) => deps.calcom.client.bookings.cancel(c.auth, uid, 'Cancelled at the attendee’s request (personal data erased).'));
        cancellations.push({ bookingUid: uid, outcome: 'cancelled', code: null });
      } catch (err) {
        cancellations.push({ bookingUid: uid, outcome: 'failed', code: err instanceof AppError ? err.code : 'internal_error' });
      }
    }
    return { requested: true, status: cancellations.every((c) => c.outcome === 'cancelled') ? 'done' : 'partial', cancellations };
  }

  /** Consent receipts of one person (by email), or the most recent ones. Listing by email is audited. */
  async function consents(tenant: TenantRecord, q: { email?: string; limit: number; cursor?: string }, actor: Actor) {
    return db.withTenant(tenant.id, async (tx) => {
      if (q.email) {
        const email = q.email;
        const bookings = await repo.subjectBookings(tx, email);
        const rows = await repo.subjectConsents(tx, email, bookings.map((b) => b.uid), bookings.flatMap((b) => uuidsIn(b.metadata)));
        const hasher = await tenantHasher(tx, keyring, tenant.id, clock.now());
        await audit(tx, tenant.id, actor, 'consents.list', hasher.ref(email), { consentReceipts: rows.length });
        return { data: rows.map(toConsent), nextCursor: null };
      }
      const after = q.cursor ? decodeConsentCursor(q.cursor) : null;
      const rows = await repo.recentConsents(tx, q.limit + 1, after);
      const data = rows.slice(0, q.limit);
      const last = data.at(-1);
      return {
        data: data.map(toConsent),
        nextCursor: rows.length > q.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
      };
    }, q.email ? GENERIC_PLANS : undefined);
  }

  async function retention(tenant: TenantRecord): Promise<RetentionStatus> {
    return db.withTenant(tenant.id, async (tx) => {
      const policy = await repo.findPolicy(tx);
      const run = await repo.lastRun(tx);
      return {
        policy: policy ?? DEFAULT_POLICY,
        isDefault: policy === null,
        lastRun: run ? { ranAt: run.ranAt.toISOString(), cutoffs: run.cutoffs, counts: run.counts } : null,
      };
    });
  }

  /** Changes the policy; rules between the periods are checked on the merged result. */
  async function updateRetention(tenant: TenantRecord, patch: RetentionPolicyPatch, actor: Actor): Promise<RetentionStatus> {
    await db.withTenant(tenant.id, async (tx) => {
      const current = (await repo.findPolicy(tx)) ?? DEFAULT_POLICY;
      const next = { ...current, ...patch };
      const replayDays = Math.ceil(config.webhookReplayWindowSeconds / 86_400);
      if (next.rawDeliveryDays < replayDays) throw new RetentionBelowReplayWindow(replayDays);
      if (next.rawDeliveryDays > next.bookingDays) throw new RetentionConflict('raw_after_bookings');
      if (next.consentReceiptDays < next.bookingDays) throw new RetentionConflict('consent_before_bookings');
      await repo.upsertPolicy(tx, tenant.id, next, clock.now());
      await audit(tx, tenant.id, actor, 'retention.update', null, { ...next });
    });
    return retention(tenant);
  }

  /** Runs retention for one tenant now (the scheduled job calls this). */
  async function runRetention(tenantId: string): Promise<repo.RetentionCounts> {
    const now = clock.now();
    return db.withTenant(tenantId, async (tx) => {
      const p = (await repo.findPolicy(tx)) ?? DEFAULT_POLICY;
      const cutoffs = {
        rawBefore: new Date(now.getTime() - p.rawDeliveryDays * DAY_MS),
        bookingBefore: new Date(now.getTime() - p.bookingDays * DAY_MS),
        consentBefore: new Date(now.getTime() - p.consentReceiptDays * DAY_MS),
      };
      const counts = await repo.enforceRetention(tx, cutoffs);
      const isoCutoffs = Object.fromEntries(Object.entries(cutoffs).map(([k, v]) => [k, v.toISOString()]));
      await repo.insertRun(tx, tenantId, now, isoCutoffs, counts);
      await audit(tx, tenantId, { kind: 'scheduler', tokenId: null }, 'retention.run', null, { ...counts });
      log.info({ tenantId, action: 'retention.run', counts }, 'retention enforced');
      return counts;
    });
  }

  /** Queues one retention job per tenant (the daily cron task). */
  async function enqueueRetentionAll(): Promise<number> {
    const ids = await db.withPlatform((tx) => repo.allTenantIds(tx));
    for (const id of ids) {
      await db.withTenant(id, (tx) => enqueue(tx, RETENTION_TENANT_TASK, { tenantId: id }, { jobKey: `gdpr-retention:${id}`, maxAttempts: 3 }));
    }
    return ids.length;
  }

  async function auditLog(tenant: TenantRecord, q: { limit: number; cursor?: string }): Promise<{ data: AuditEntry[]; nextCursor: string | null }> {
    const rows = await db.withTenant(tenant.id, (tx) => repo.listAudit(tx, q.limit + 1, q.cursor ?? null));
    const data = rows.slice(0, q.limit).map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actor: { kind: r.actorKind, tokenId: r.actorToken, ...(r.actorSubject ? { subject: r.actorSubject } : {}) },
      action: r.action,
      subjectRef: r.subjectRef,
      details: r.details,
    }));
    return { data, nextCursor: rows.length > q.limit ? data.at(-1)!.id : null };
  }

  return { exportSubject, eraseSubject, consents, retention, updateRetention, runRetention, enqueueRetentionAll, auditLog };
}

export type GdprService = ReturnType<typeof createGdprService>;

function decodeConsentCursor(cursor: string): { createdAt: Date; id: string } {
  const [createdAt, id] = decodeCursor(cursor, z.tuple([CursorTime, CursorUuid]));
  return { createdAt, id };
}

