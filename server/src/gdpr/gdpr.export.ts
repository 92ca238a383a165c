// The subject-access document (GDPR art. 15): everything the tenant holds about one person,
// read in one transaction and shaped for the person. The service adds the audit entry and the
// zip; the erasure shares the receipt and consent views.
import { SUBJECT_EXPORT_FORMAT, type ConsentReceipt, type ErasureReceipt } from '@calbridge/shared';
import { toBooking, toBookingEvent } from '../bookings/bookings.views.js';
import type { Tx } from '../db/db.js';
import type { TenantRecord } from '../tenants/tenants.service.js';
import * as repo from './gdpr.repository.js';
import { PSEUDONYMISED_MARK } from './pseudonymise.js';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

/** A stored body read back: JSON when it is, text otherwise. */
export function decodeBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Booking form answers a delivery carries (Cal.com: responses, userFieldsResponses, customInputs, notes). */
function formAnswersOf(decoded: unknown): Record<string, unknown> | null {
  const payload = (decoded as { payload?: Record<string, unknown> } | null)?.payload;
  if (!payload || typeof payload !== 'object') return null;
  const out: Record<string, unknown> = {};
  for (const k of ['responses', 'userFieldsResponses', 'customInputs', 'additionalNotes', 'description']) {
    const v = payload[k];
    if (v !== undefined && v !== null && v !== '' && !(typeof v === 'object' && Object.keys(v).length === 0)) out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : null;
}

export function toConsent(c: repo.ConsentRow): ConsentReceipt {
  return {
    id: c.id,
    sessionId: c.sessionId,
    consentVersion: c.consentVersion,
    consentTextSha256: c.consentTextSha256,
    purposes: c.purposes,
    pageOrigin: c.pageOrigin,
    pageUrl: c.pageUrl,
    referrer: c.referrer,
    utm: c.utm,
    consentSource: c.consentSource ?? 'widget',
    clickIds: c.clickIds ?? {},
    ipPrefix: c.ipPrefix,
    userAgentFamily: c.userAgentFamily,
    createdAt: c.createdAt.toISOString(),
    redactedAt: iso(c.redactedAt),
    bookingUids: c.bookingUids,
  };
}

export function toReceipt(r: repo.ReceiptRow): ErasureReceipt {
  return { id: r.id, subjectRef: r.subjectRef, erasedAt: r.erasedAt.toISOString(), requestedBy: r.requestedBy, stores: r.counts, calcom: r.calcom, crm: r.crm };
}

/** Metadata values that may name a consent receipt or session (uuids). */
export function uuidsIn(metadata: Record<string, unknown> | null): string[] {
  return Object.values(metadata ?? {}).filter((v): v is string => typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v));
}

/** Everything the tenant holds about one person, read in one transaction. */
export async function gather(tx: Tx, email: string) {
  const bookings = await repo.subjectBookings(tx, email);
  const uids = bookings.map((b) => b.uid);
  const [events, inbox, native, leads] = [
    await repo.eventsOf(tx, uids),
    await repo.subjectInbox(tx, email, uids),
    await repo.subjectNativeRequests(tx, email, uids),
    await repo.subjectLeads(tx, email),
  ];
  const consents = await repo.subjectConsents(tx, email, uids, bookings.flatMap((b) => uuidsIn(b.metadata)));
  const observed = await repo.observedOf(tx, uids);
  const deliveries = await repo.deliveriesOf(tx, inbox.map((i) => i.id));
  const crm = await repo.subjectCrmMessages(tx, email, leads.map((l) => l.id));
  const crmContacts = await repo.subjectCrmContacts(tx, leads.map((l) => l.id));
  return { bookings, uids, events, inbox, native, consents, observed, deliveries, leads, crm, crmContacts };
}

/** The document for one person, from what {@link gather} read. */
export function subjectDocument(input: { now: Date; tenant: TenantRecord; email: string; ref: string; gathered: Awaited<ReturnType<typeof gather>>; receipts: repo.ReceiptRow[] }) {
  const { now, tenant, email, ref, gathered: g, receipts } = input;
  const byBooking = new Map<string, typeof g.events>();
  for (const e of g.events) byBooking.set(e.bookingUid, [...(byBooking.get(e.bookingUid) ?? []), e]);
  const rawDeliveries = g.inbox.map((i) => {
    const decoded = decodeBody(i.body);
    return {
      id: i.id,
      trigger: i.trigger,
      bookingUid: i.bookingUid,
      eventCreatedAt: i.eventCreatedAt?.toISOString() ?? null,
      receivedAt: i.receivedAt.toISOString(),
      pseudonymised: typeof decoded === 'object' && decoded !== null && PSEUDONYMISED_MARK in decoded,
      body: decoded,
    };
  });
  return {
    format: SUBJECT_EXPORT_FORMAT,
    generatedAt: now.toISOString(),
    tenant: { slug: tenant.slug, name: tenant.name },
    subject: { email, ref },
    bookings: g.bookings.map((b) => ({
      ...toBooking(b),
      events: (byBooking.get(b.uid) ?? []).map((e) => toBookingEvent(e, e.id === b.stateEventId)),
    })),
    formAnswers: rawDeliveries.flatMap((d) => {
      const answers = formAnswersOf(d.body);
      return answers ? [{ bookingUid: d.bookingUid, inboxId: d.id, trigger: d.trigger, eventCreatedAt: d.eventCreatedAt, answers }] : [];
    }),
    rawDeliveries,
    deliveryLog: g.deliveries.map((d) => ({ ...d, receivedAt: d.receivedAt.toISOString() })),
    consentReceipts: g.consents.map(toConsent),
    observedBookings: g.observed.map((o) => ({ ...o, startTime: iso(o.startTime), endTime: iso(o.endTime), observedAt: o.observedAt.toISOString() })),
    nativeBookingRequests: g.native.map((n) => ({ idempotencyKey: n.idempotencyKey, bookingUid: n.bookingUid, response: n.response, createdAt: n.createdAt.toISOString() })),
    leads: g.leads.map((l) => ({ ...l, scoredAt: iso(l.scoredAt), createdAt: l.createdAt.toISOString(), updatedAt: l.updatedAt.toISOString() })),
    crmDeliveries: g.crm.map((m) => ({ ...m, createdAt: m.createdAt.toISOString(), deliveredAt: iso(m.deliveredAt) })),
    crmContacts: g.crmContacts.map((c) => ({ ...c, updatedAt: c.updatedAt.toISOString() })),
    erasureReceipts: receipts.map(toReceipt),
  }
}
