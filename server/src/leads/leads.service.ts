import { LeadRuleSetInput, type LeadRule, type LeadRuleSetData, type ListLeadsQuery } from '@calbridge/shared';
import type { AppContext } from '../context.js';
import type { Tx } from '../db/db.js';
import { z } from 'zod';
import { CursorTime, CursorUuid, decodeCursor, encodeCursor } from '../http/cursor.js';
import { emitCrmEvent, type CrmEventType } from '../crm/crm.outbox.js';
import { enqueue } from '../jobs/queue.js';
import { toBooking } from '../bookings/bookings.views.js';
import { DEFAULT_RULE_SET } from './default-rules.js';
import { enrich, receiptIdOf, type EnrichedBooking } from './lead-facts.js';
import { LeadNotFound } from './leads.errors.js';
import * as repo from './leads.repository.js';
import { answerValue, isMarketingRule, scoreLead } from './scoring.js';
import { lockForWrite } from '../gdpr/erasure-guard.js';
import { isErasedPlaceholder } from '../gdpr/subject.js';

/** Rescores every lead of a tenant; payload `{ tenantId, version }`. Queued by PUT /lead-rules. */
export const LEAD_RESCORE_TASK = 'leads.rescore';

/** The consent purpose that allows marketing data to leave (the widget's optional "follow up" purpose). */
const MARKETING_PURPOSE = 'follow_up';

/** A tenant's rules in force: its latest version, or the built-in default as version 0. */
export interface ActiveRuleSet {
  version: number;
  isDefault: boolean;
  data: LeadRuleSetData;
  createdAt: Date | null;
}

async function activeRuleSet(tx: Tx): Promise<ActiveRuleSet> {
  const r = await repo.latestRuleSet(tx);
  if (!r) return { version: 0, isDefault: true, data: DEFAULT_RULE_SET, createdAt: null };
  // Stored rules were validated on the way in; parsing again keeps old versions readable if defaults are added.
  return { version: r.version, isDefault: false, data: LeadRuleSetInput.parse(r.rules), createdAt: r.createdAt };
}

/** CRM event of a booking event, by Cal.com trigger; null when the trigger only moves the score. */
function bookingEventType(trigger: string, b: repo.LeadBookingRow): CrmEventType | null {
  switch (trigger) {
    case 'BOOKING_CREATED':
      return 'booking.created';
    case 'BOOKING_RESCHEDULED':
      // The original of a reschedule is cancelled by the same delivery; the new booking's event tells it all.
      return b.rescheduledToUid ? null : 'booking.rescheduled';
    case 'BOOKING_CANCELLED':
    case 'BOOKING_REJECTED':
      return 'booking.cancelled';
    default:
      return null;
  }
}

interface Scored {
  lead: repo.LeadRecord;
  before: repo.LeadRecord;
  created: boolean;
  bookings: EnrichedBooking[];
  ruleSet: ActiveRuleSet;
  consent: { marketing: boolean; receiptId: string | null; purposes: string[] };
}

export function createLeadsService(ctx: Pick<AppContext, 'db' | 'clock'>) {
  const { db, clock } = ctx;

  /** Re-reads everything known about the person and stores the new score. Call with the lead row locked (upsertLead / findLead FOR UPDATE). */
  async function rescore(tx: Tx, before: repo.LeadRecord, created: boolean, ruleSet: ActiveRuleSet): Promise<Scored> {
    const rows = await repo.bookingsOfEmail(tx, before.email);
    const ids = [...new Set(rows.map(receiptIdOf).filter((x): x is string => x !== null))];
    const receipts = await repo.receiptsByIds(tx, ids);
    const { facts, bookings } = enrich(before.email, rows, receipts);
    const result = scoreLead(ruleSet.data, facts);
    const latestReceipt = [...bookings].reverse().find((b) => b.receipt)?.receipt;
    const consent = {
      marketing: latestReceipt?.purposes.includes(MARKETING_PURPOSE) ?? false,
      receiptId: latestReceipt?.id ?? null,
      purposes: latestReceipt?.purposes ?? [],
    };
    const latest = rows.at(-1);
    const name = latest?.attendees[0]?.name ?? null;
    const lead = await repo.saveScore(tx, before.id, {
      name,
      score: result.score,
      grade: result.grade,
      explanation: result.explanation,
      ruleSetVersion: ruleSet.version,
      bookingCount: bookings.filter((b) => !b.facts.replaced).length,
      marketingConsent: consent.marketing,
      now: clock.now(),
    });
    return { lead, before, created, bookings, ruleSet, consent };
  }

  const changed = (s: Scored) =>
    s.lead.score !== s.before.score ||
    s.lead.grade !== s.before.grade ||
    s.lead.name !== s.before.name ||
    s.lead.marketingConsent !== s.before.marketingConsent ||
    JSON.stringify(s.lead.explanation) !== JSON.stringify(s.before.explanation);

  /** What receivers learn about the lead: marketing-based explanation items and UTM only with marketing consent. */
  function leadData(s: Scored) {
    const marketingRuleIds = new Set(s.ruleSet.data.rules.filter((r: LeadRule) => isMarketingRule(r, s.ruleSet.data.marketingFields)).map((r) => r.id));
    const latestUtm = [...s.bookings].reverse().find((b) => Object.keys(b.facts.utm).length > 0)?.facts.utm;
    return {
      lead: {
        id: s.lead.id,
        email: s.lead.email,
        name: s.lead.name,
        score: s.lead.score,
        grade: s.lead.grade,
        ruleSetVersion: s.lead.ruleSetVersion,
        explanation: s.consent.marketing ? s.lead.explanation : s.lead.explanation.filter((e) => !marketingRuleIds.has(e.ruleId)),
        bookingCount: s.lead.bookingCount,
      },
      consent: s.consent,
      ...(s.consent.marketing && latestUtm ? { utm: latestUtm } : {}),
    };
  }

  function bookingData(s: Scored, b: EnrichedBooking) {
    const marketing = new Set(s.ruleSet.data.marketingFields);
    const answers: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b.facts.answers)) if (s.consent.marketing || !marketing.has(k)) answers[k] = answerValue(v);
    const me = b.row.attendees[0];
    return {
      booking: {
        ...toLeadBooking(b),
        cancellationReason: b.row.cancellationReason,
        attendee: { email: s.lead.email, name: me?.name ?? null, timeZone: me?.timeZone ?? null },
        answers,
      },
      lead: { id: s.lead.id, email: s.lead.email, name: s.lead.name, score: s.lead.score, grade: s.lead.grade },
      consent: s.consent,
      ...(s.consent.marketing && Object.keys(b.facts.utm).length > 0 ? { utm: b.facts.utm } : {}),
    };
  }

  /**
   * The outbox hook of the webhook intake (`booking.changed`): rescores the
   * booker of the booking and queues the CRM messages, in one transaction.
   * Safe to run twice: messages are deduplicated per booking event.
   */
  async function onBookingChanged(tenantId: string, bookingUid: string, eventId: string): Promise<void> {
    await db.withTenant(tenantId, async (tx) => {
      // Waits for a GDPR erasure of the tenant in progress, so a lead is never made from data it is removing.
      await lockForWrite(tx, tenantId);
      const email = await repo.bookerEmail(tx, bookingUid);
      // An erased person's bookings keep a placeholder address (GDPR erasure): never a lead.
      if (!email || isErasedPlaceholder(email)) return;
      const trigger = await repo.bookingTrigger(tx, eventId);
      const { lead, created } = await repo.upsertLead(tx, tenantId, email, clock.now());
      const s = await rescore(tx, lead, created, await activeRuleSet(tx));
      const now = clock.now();
      if (created) {
        await emitCrmEvent(tx, { tenantId, type: 'lead.created', leadId: lead.id, data: leadData(s) }, { now, dedupeKey: `lead.created:${lead.id}` });
      } else if (changed(s)) {
        await emitCrmEvent(tx, { tenantId, type: 'lead.updated', leadId: lead.id, data: leadData(s) }, { now, dedupeKey: `lead.updated:event:${eventId}` });
      }
      const b = s.bookings.find((x) => x.row.uid === bookingUid);
      const type = b && trigger ? bookingEventType(trigger, b.row) : null;
      if (b && type) {
        await emitCrmEvent(tx, { tenantId, type, leadId: lead.id, data: bookingData(s, b) }, { now, dedupeKey: `booking:${eventId}` });
      }
    });
  }

  async function getRules(tenantId: string): Promise<ActiveRuleSet> {
    return db.withTenant(tenantId, activeRuleSet);
  }

  /** Stores the rules as the next version and queues a rescore of every lead of the tenant. */
  async function putRules(tenantId: string, input: LeadRuleSetData): Promise<ActiveRuleSet> {
    return db.withTenant(tenantId, async (tx) => {
      const r = await repo.insertRuleSet(tx, tenantId, input, clock.now());
      await enqueue(tx, LEAD_RESCORE_TASK, { tenantId, version: r.version }, { jobKey: `leads-rescore:${tenantId}`, maxAttempts: 10 });
      return { version: r.version, isDefault: false, data: input, createdAt: r.createdAt };
    });
  }

  /**
   * The rescore job: every lead under the rules in force (the newest version,
   * whatever version queued the job), a batch per transaction; leads whose
   * score, grade or explanation changed get a `lead.updated`.
   */
  async function rescoreTenant(tenantId: string, version: number): Promise<number> {
    let after: string | null = null;
    let n = 0;
    for (;;) {
      const ids: string[] = await db.withTenant(tenantId, (tx) => repo.leadIdsAfter(tx, after, 100));
      if (ids.length === 0) return n;
      await db.withTenant(tenantId, async (tx) => {
        const rules = await activeRuleSet(tx);
        for (const id of ids) {
          const before = await repo.findLead(tx, id, true);
          if (!before) continue;
          const s = await rescore(tx, before, false, rules);
          if (changed(s)) {
            await emitCrmEvent(tx, { tenantId, type: 'lead.updated', leadId: id, data: leadData(s) }, { now: clock.now(), dedupeKey: `lead.updated:rules:${rules.version}:${version}` });
          }
          n += 1;
        }
      });
      after = ids.at(-1)!;
    }
  }

  /** A leads page position: (score or creation time, id). */
  const LeadCursor = z.tuple([z.union([z.number().min(-1e9).max(1e9), CursorTime]), CursorUuid]);

  async function list(tenantId: string, q: ListLeadsQuery) {
    let after: { value: number | string; id: string } | null = null;
    if (q.cursor) {
      const [value, id] = decodeCursor(q.cursor, LeadCursor);
      after = { value: value instanceof Date ? value.toISOString() : value, id };
    }
    const rows = await db.withTenant(tenantId, (tx) => repo.listLeads(tx, { sort: q.sort, grade: q.grade ?? null, after, limit: q.limit + 1 }));
    const data = rows.slice(0, q.limit);
    const last = data.at(-1);
    const nextCursor =
      rows.length > q.limit && last
        ? encodeCursor([q.sort.endsWith('score') ? last.score : last.createdAt.toISOString(), last.id])
        : null;
    return { data, nextCursor };
  }

  /** A lead with its bookings and the consent receipts they came with. */
  async function get(tenantId: string, id: string) {
    return db.withTenant(tenantId, async (tx) => {
      const lead = await repo.findLead(tx, id);
      if (!lead) throw new LeadNotFound();
      const rows = await repo.bookingsOfEmail(tx, lead.email);
      const ids = [...new Set(rows.map(receiptIdOf).filter((x): x is string => x !== null))];
      const receipts = await repo.receiptsByIds(tx, ids);
      const { bookings } = enrich(lead.email, rows, receipts);
      return { lead, bookings, receipts };
    });
  }

  /**
   * How the tenant's highest-scored leads (up to `limit`) would score under `input`, without
   * storing anything: the console's preview before a PUT of new rules.
   */
  async function previewRules(tenantId: string, input: LeadRuleSetData, limit = 100) {
    return db.withTenant(tenantId, async (tx) => {
      const leads = await repo.listLeads(tx, { sort: '-score', grade: null, after: null, limit });
      const out = [];
      for (const lead of leads) {
        const rows = await repo.bookingsOfEmail(tx, lead.email);
        const ids = [...new Set(rows.map(receiptIdOf).filter((x): x is string => x !== null))];
        const { facts } = enrich(lead.email, rows, await repo.receiptsByIds(tx, ids));
        const next = scoreLead(input, facts);
        out.push({ id: lead.id, email: lead.email, before: { score: lead.score, grade: lead.grade }, after: { score: next.score, grade: next.grade } });
      }
      return out;
    });
  }

  return { onBookingChanged, getRules, putRules, rescoreTenant, list, get, previewRules };
}

export type LeadsService = ReturnType<typeof createLeadsService>;

/**
 * A lead's booking as the admin API and CRM messages show it (the part they share): fields of the
 * booking's one view (bookings.views.ts), and the event type's slug from its delivery.
 */
export function toLeadBooking(b: EnrichedBooking) {
  const { uid, status, title, startTime, endTime, eventTypeId, rescheduledFromUid, rescheduledToUid } = toBooking(b.row);
  return { uid, status, title, startTime, endTime, eventTypeId, eventType: b.facts.eventSlug, rescheduledFromUid, rescheduledToUid };
}

export function toLead(l: repo.LeadRecord) {
  return {
    id: l.id,
    email: l.email,
    name: l.name,
    score: l.score,
    grade: l.grade,
    ruleSetVersion: l.ruleSetVersion,
    explanation: l.explanation,
    bookingCount: l.bookingCount,
    marketingConsent: l.marketingConsent,
    scoredAt: l.scoredAt?.toISOString() ?? null,
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
  };
}

export function toRuleSet(r: ActiveRuleSet) {
  return { version: r.version, isDefault: r.isDefault, ...r.data, createdAt: r.createdAt?.toISOString() ?? null };
}
