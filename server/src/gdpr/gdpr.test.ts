import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalcomWebhook } from '@calbridge/shared';
import { createContext } from '../app.js';
import { applyCalcomWebhook } from '../bookings/bookings.projection.js';
import { insertInbox } from '../webhooks/webhooks.repository.js';
import { lockForWrite } from './erasure-guard.js';
import { jobHandlers } from '../jobs/handlers.js';
import { asAdmin, capturingLogger, createTestApp, offlineFetch, rawBody, type TestApp } from '../test-support/app.js';
import { createTenant, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';
import { dumpDatabase } from '../test-support/database.js';
import { deliverOk, expectAbsent, fx, personBooking, seedSubject, unzipEntries } from './gdpr.test-support.js';

const SECRET = 'whsec_gdpr_test_secret_0000000000000000';
const SLUG = 'gdpr';
const subjectPath = (email = fx.subject.email) => `/v1/admin/tenants/${SLUG}/subjects/${encodeURIComponent(email)}`;

let t: TestApp;
let tenantId: string;
let seeded: { receiptId: string; leadId: string };
let tmp: string;

beforeAll(async () => {
  // A 10-day replay window, so the raw-delivery minimum it imposes can be tested.
  t = await createTestApp({ env: { CALBRIDGE_WEBHOOK_REPLAY_WINDOW_SECONDS: String(10 * 86400) } });
  tenantId = await createTenant(t, SLUG);
  await setWebhookSecret(t, tenantId, SECRET);
  // Another tenant holding the same person: an erasure in one tenant never touches the other.
  const otherTenant = await createTenant(t, 'gdpr-other');
  await setWebhookSecret(t, otherTenant, SECRET);
  seeded = await seedSubject(t, tenantId, SLUG, SECRET);
  await deliverOk(t, 'gdpr-other', personBooking('BOOKING_CREATED', fx.bookings.past.createdAt!, fx.bookings.past, fx.subject, { slug: 'gdpr-other' }), SECRET);
  tmp = mkdtempSync(join(tmpdir(), 'calbridge-gdpr-'));
});
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await t.close();
});

/** Every stored place (table and row key) where `needle` occurs: each text, json, jsonb, array and bytea column of every table. */
async function sqlSearch(needle: string): Promise<{ table: string; key: string }[]> {
  const cols = await t.database.owner.query<{ schema: string; table: string; column: string; type: string }>(
    `SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column, c.data_type AS type
       FROM information_schema.columns c JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
      WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND tb.table_type = 'BASE TABLE'
        AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea', 'ARRAY')`,
  );
  const keys: Record<string, string> = {
    bookings: 'uid',
    booking_emails: 'booking_uid',
    webhook_inbox: 'id::text',
    consent_receipts: 'id::text',
    leads: 'id::text',
    crm_messages: 'id::text',
    calcom_booking_requests: 'idempotency_key',
  };
  const hits: { table: string; key: string }[] = [];
  for (const c of cols.rows) {
    const value = c.type === 'bytea' ? `encode("${c.column}", 'escape')` : `"${c.column}"::text`;
    const key = c.schema === 'public' && keys[c.table] ? keys[c.table] : 'ctid::text';
    const r = await t.database.owner.query<{ k: string; tenant: string | null }>(
      `SELECT ${key} AS k FROM "${c.schema}"."${c.table}" WHERE strpos(lower(${value}), lower($1)) > 0`,
      [needle],
    );
    for (const row of r.rows) hits.push({ table: `${c.schema === 'public' ? '' : `${c.schema}.`}${c.table}`, key: row.k });
  }
  return hits;
}

/** The keys of each store as the export lists them. */
function exportKeys(doc: Record<string, unknown[]>): Record<string, Set<string>> {
  const ids = (list: unknown[], k: string) => new Set(list.map((x) => String((x as Record<string, unknown>)[k])));
  return {
    bookings: ids(doc.bookings!, 'uid'),
    // The attendee addresses of bookings, one row each, for the admin email filter (migration 0018): the bookings section covers them.
    booking_emails: ids(doc.bookings!, 'uid'),
    webhook_inbox: ids(doc.rawDeliveries!, 'id'),
    consent_receipts: ids(doc.consentReceipts!, 'id'),
    leads: ids(doc.leads!, 'id'),
    crm_messages: ids(doc.crmDeliveries!, 'id'),
    calcom_booking_requests: ids(doc.nativeBookingRequests!, 'idempotencyKey'),
  };
}

async function exportOf(email = fx.subject.email) {
  const res = await request(t.app).get(`${subjectPath(email)}/export`).set(asAdmin);
  expect(res.status).toBe(200);
  return res.body;
}

const DATA_SECTIONS = ['bookings', 'formAnswers', 'rawDeliveries', 'deliveryLog', 'consentReceipts', 'observedBookings', 'nativeBookingRequests', 'leads', 'crmDeliveries', 'crmContacts'] as const;

describe('subject access export', () => {
  it('when a subject is exported, then it contains every record a direct SQL search for their email or name finds in this tenant', async () => {
    const doc = await exportOf();
    const keys = exportKeys(doc);
    for (const needle of [fx.subject.email, fx.subject.name]) {
      const hits = await sqlSearch(needle);
      expect(hits.length).toBeGreaterThan(0);
      for (const hit of hits) {
        // A store the export does not know would fail here: every table holding the person must be covered.
        expect(Object.keys(keys), `${hit.table} holds "${needle}" but the export has no section for it`).toContain(hit.table);
        // Rows of the other tenant are not this export's business.
        const owner = await t.database.owner.query<{ tenant: string }>(
          hit.table === 'calcom_booking_requests'
            ? 'SELECT tenant_id::text AS tenant FROM calcom_booking_requests WHERE idempotency_key = $1'
            : `SELECT tenant_id::text AS tenant FROM ${hit.table} WHERE ${hit.table === 'bookings' ? 'uid' : hit.table === 'booking_emails' ? 'booking_uid' : 'id::text'} = $1`,
          [hit.key],
        );
        if (owner.rows.every((r) => r.tenant !== tenantId)) continue;
        expect(keys[hit.table], `${hit.table} ${hit.key}`).toContain(hit.key);
      }
    }
  });

  it('when a subject is exported, then the document holds their bookings with history, form answers, decoded raw deliveries, consent, lead with explanation and CRM deliveries', async () => {
    const doc = await exportOf();
    expect(doc.format).toBe('calbridge.subject-export.v1');
    expect(doc.subject.email).toBe(fx.subject.email.toLowerCase());
    expect(doc.subject.ref).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.bookings.map((b: { uid: string }) => b.uid).sort()).toEqual([fx.bookings.future.uid, fx.bookings.past.uid].sort());
    expect(doc.bookings[0].events.length).toBeGreaterThan(0);
    expect(doc.formAnswers.some((a: { answers: { responses?: { notes?: { value: string } } } }) => a.answers.responses?.notes?.value === fx.subject.note)).toBe(true);
    expect(doc.rawDeliveries[0].body.triggerEvent).toBe('BOOKING_CREATED');
    expect(doc.deliveryLog.length).toBe(doc.rawDeliveries.length);
    expect(doc.consentReceipts).toHaveLength(1);
    expect(doc.consentReceipts[0]).toMatchObject({ id: seeded.receiptId, bookingUids: [fx.bookings.future.uid], redactedAt: null });
    expect(doc.observedBookings).toHaveLength(1);
    expect(doc.leads).toHaveLength(1);
    expect(doc.leads[0]).toMatchObject({ id: seeded.leadId, score: 40, explanation: [{ ruleId: 'notes' }] });
    expect(doc.crmDeliveries).toHaveLength(1);
    expect(doc.crmDeliveries[0]).toMatchObject({ eventType: 'lead.created', destinationKind: 'webhook', attemptLog: [] });
    expect(doc.nativeBookingRequests).toHaveLength(1);
    expect(doc.erasureReceipts).toEqual([]);
    // Never the other person.
    expect(JSON.stringify(doc)).not.toContain(fx.other.email);
  });

  it('when a subject is exported, then each booking reads field for field as the admin API shows it (one column list, one view)', async () => {
    const doc = await exportOf();
    for (const exported of doc.bookings as { uid: string; events: unknown[] }[]) {
      const api = await request(t.app).get(`/v1/admin/tenants/${SLUG}/bookings/${exported.uid}`).set(asAdmin);
      expect(api.status).toBe(200);
      const { consent: _consent, ...shown } = api.body as Record<string, unknown>;
      // Every field, `rejectionReason` too (the export's own column list once lacked it).
      expect(exported).toEqual(shown);
      expect(Object.keys(exported)).toContain('rejectionReason');
    }
  });

  it('when the export is asked for with Accept: application/zip or ?format=zip, then the archive unzips to the same JSON document', async () => {
    const json = await exportOf();
    for (const ask of [{ header: 'application/zip', query: '' }, { header: '*/*', query: '?format=zip' }]) {
      const res = await request(t.app)
        .get(`${subjectPath()}/export${ask.query}`)
        .set(asAdmin)
        .set('Accept', ask.header)
        .buffer(true)
        .parse(rawBody);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/zip');
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="subject-export-[0-9a-f]{12}\.zip"$/);
      expect(res.headers['content-disposition']).not.toContain('grace');
      const entries = unzipEntries(res.body as Buffer, tmp);
      const names = Object.keys(entries);
      expect(names).toHaveLength(1);
      expect(JSON.parse(entries[names[0]!]!)).toEqual(json);
    }
  });

  it('when the export is asked for in a format it does not come in, then 406 export_format_not_acceptable', async () => {
    const res = await request(t.app).get(`${subjectPath()}/export`).set(asAdmin).set('Accept', 'text/html');
    expect(res.status).toBe(406);
    expect(res.body.code).toBe('export_format_not_acceptable');
  });
});

describe('consent receipts', () => {
  it('when consents are listed by email, then the receipts linked to that person’s bookings are returned', async () => {
    const res = await request(t.app).get(`/v1/admin/tenants/${SLUG}/consents`).query({ email: fx.subject.email }).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.data.map((c: { id: string }) => c.id)).toEqual([seeded.receiptId]);
  });

  it('when consents are listed without email, then recent receipts come newest first with a cursor', async () => {
    const res = await request(t.app).get(`/v1/admin/tenants/${SLUG}/consents`).query({ limit: 1 }).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.nextCursor).toBeNull();
  });

  it('when someone tries to change a consent receipt, then the database refuses', async () => {
    await expect(
      t.database.db.withTenant(tenantId, (tx) => tx.query("UPDATE consent_receipts SET purposes = '{booking}' WHERE id = $1", [seeded.receiptId])),
    ).rejects.toThrow(/immutable/);
  });
});

describe('erasure', () => {
  let receipt: Record<string, any>;

  it('when a subject is erased, then the receipt lists what was done where and holds neither email nor name', async () => {
    const linesBefore = t.logLines.length;
    const res = await request(t.app).delete(subjectPath()).set(asAdmin).send({});
    expect(res.status).toBe(200);
    receipt = res.body;
    expect(receipt.subjectRef).toMatch(/^[0-9a-f]{64}$/);
    expect(receipt.stores).toMatchObject({
      bookings: { pseudonymised: 2, deleted: 0 },
      webhook_inbox: { pseudonymised: 2, deleted: 0 },
      consent_receipts: { pseudonymised: 1, deleted: 0 },
      calcom_booking_requests: { pseudonymised: 0, deleted: 1 },
      leads: { pseudonymised: 0, deleted: 1 },
      crm_messages: { pseudonymised: 1, deleted: 0 },
    });
    expect(receipt.calcom).toEqual({ requested: false, status: 'skipped: not requested', cancellations: [] });
    expect(receipt.crm).toEqual({ eventsEmitted: 1, status: 'queued' });
    const text = JSON.stringify(receipt).toLowerCase();
    expect(text).not.toContain(fx.subject.email.toLowerCase());
    expect(text).not.toContain(fx.subject.name.toLowerCase());
    expect(t.logLines.length).toBeGreaterThan(linesBefore);
  });

  it('when a subject was erased, then a full database dump holds neither their email nor their name once the other tenant erased them too', async () => {
    // Tenants are separate controllers' data: erasing in one leaves the other's copy alone.
    const other = await t.database.owner.query("SELECT count(*)::int AS n FROM bookings b JOIN tenants t ON t.id = b.tenant_id WHERE t.slug = 'gdpr-other' AND $1 = ANY(b.attendee_emails)", [
      fx.subject.email.toLowerCase(),
    ]);
    expect(other.rows[0].n).toBe(1);
    const res = await request(t.app).delete(`/v1/admin/tenants/gdpr-other/subjects/${encodeURIComponent(fx.subject.email)}`).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.subjectRef).not.toBe(receipt.subjectRef);

    const dump = await dumpDatabase(t.database.ownerUrl);
    expect(dump).toContain('erasure_receipts');
    expect(dump).toContain(receipt.id);
    for (const needle of [fx.subject.email, fx.subject.name, fx.subject.note]) expectAbsent(dump, needle, `dump: ${needle}`);
    // Nor does the index of where people are mentioned keep a key of their address (migration 0021):
    // each rewritten row took its keys with it.
    const keys = `SELECT count(*)::int AS n FROM subject_mentions WHERE mention = ANY(calbridge_mention_keys(lower($1)))`;
    expect((await t.database.owner.query(keys, [fx.subject.email])).rows[0].n).toBe(0);
    expect((await t.database.owner.query(keys, [fx.host.email])).rows[0].n).toBeGreaterThan(0);
  });

  it('when a subject was exported and erased, then no log line holds their email or name', () => {
    const logs = t.logLines.join('\n');
    expect(logs).toContain('/v1/admin/tenants/:slug/subjects/:email');
    // The operations log says what happened, by receipt id.
    const erased = t.logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'subject erased' && l.receiptId === receipt.id);
    expect(erased).toMatchObject({ component: 'gdpr', tenant: SLUG, action: 'subject.erase' });
    expect(logs).not.toContain(receipt.subjectRef);
    for (const needle of [fx.subject.email, fx.subject.name, encodeURIComponent(fx.subject.email)]) expectAbsent(logs, needle, `logs: ${needle}`);
  });

  it('when a subject was erased, then their export is empty but names the erasure receipt', async () => {
    const doc = await exportOf();
    for (const section of DATA_SECTIONS) expect({ section, rows: doc[section] }).toEqual({ section, rows: [] });
    expect(doc.erasureReceipts.map((r: { id: string }) => r.id)).toEqual([receipt.id]);
  });

  it('when a subject was erased, then their bookings keep time and status, the other person’s booking is untouched and the consent receipt survives redacted', async () => {
    const { rows } = await t.database.owner.query<{ uid: string; status: string; start_time: Date; title: string | null; attendee_emails: string[] }>(
      'SELECT uid, status, start_time, title, attendee_emails FROM bookings WHERE tenant_id = $1 ORDER BY uid',
      [tenantId],
    );
    const byUid = Object.fromEntries(rows.map((r) => [r.uid, r]));
    expect(byUid[fx.bookings.future.uid]).toMatchObject({ status: 'accepted', start_time: new Date(fx.bookings.future.startTime), title: null });
    expect(byUid[fx.bookings.future.uid]!.attendee_emails).toEqual([expect.stringMatching(/^erased-[0-9a-f]{16}@erased\.invalid$/)]);
    expect(byUid[fx.bookings.other.uid]).toMatchObject({ title: `Intro call between Jane Host and ${fx.other.name}`, attendee_emails: [fx.other.email] });
    const c = await t.database.owner.query('SELECT page_url, referrer, utm, redacted_at, purposes FROM consent_receipts WHERE id = $1', [seeded.receiptId]);
    expect(c.rows[0]).toMatchObject({ page_url: 'https://www.acme.example/book', referrer: 'https://mail.example', utm: {}, purposes: ['booking', 'follow_up'] });
    expect(c.rows[0].redacted_at).toBeInstanceOf(Date);
  });

  it('when a subject was erased, then subject.erased is queued for the CRM with the lead id and reference only, and unsent messages about them are cancelled', async () => {
    const { rows } = await t.database.owner.query<{ event_type: string; status: string; payload: Record<string, any> }>(
      'SELECT event_type, status, payload FROM crm_messages WHERE tenant_id = $1 ORDER BY seq',
      [tenantId],
    );
    expect(rows.map((r) => [r.event_type, r.status])).toEqual([['lead.created', 'cancelled'], ['subject.erased', 'pending']]);
    expect(rows[1]!.payload.data).toEqual({ leadId: seeded.leadId, subjectRef: receipt.subjectRef });
  });

  it('when a later webhook is about an erased person, then it is stored pseudonymised and the booking still moves', async () => {
    t.clock.advance(60_000);
    const cancelled = personBooking('BOOKING_CANCELLED', t.clock.now(), fx.bookings.future, fx.subject, { slug: SLUG, cancellationReason: `${fx.subject.name} cannot make it` });
    await deliverOk(t, SLUG, cancelled, SECRET);
    const created = personBooking('BOOKING_CREATED', t.clock.now(), fx.bookings.later, { ...fx.subject, email: fx.subject.email.toUpperCase() }, { slug: SLUG });
    await deliverOk(t, SLUG, created, SECRET);
    // The same delivery again is still recognised as a duplicate (identity = hash of the signed bytes).
    const again = await deliver(t.app, SLUG, cancelled, { secret: SECRET });
    expect(again.body).toEqual({ received: true, duplicate: true });

    const { rows } = await t.database.owner.query<{ body: Buffer }>(
      'SELECT body FROM webhook_inbox WHERE tenant_id = $1 AND booking_uid = ANY($2)',
      [tenantId, [fx.bookings.future.uid, fx.bookings.later.uid]],
    );
    // The erased CREATED, the new CANCELLED, and the later booking's CREATED.
    expect(rows.length).toBe(3);
    for (const r of rows) {
      const text = r.body.toString('utf8');
      expect(JSON.parse(text).calbridgePseudonymised).toBe(true);
      for (const needle of [fx.subject.email, fx.subject.name]) expectAbsent(text, needle, 'stored body');
    }
    const b = await t.database.owner.query('SELECT uid, status, start_time, title, cancellation_reason FROM bookings WHERE tenant_id = $1 AND uid = ANY($2) ORDER BY uid', [
      tenantId,
      [fx.bookings.future.uid, fx.bookings.later.uid],
    ]);
    expect(b.rows).toEqual([
      { uid: fx.bookings.future.uid, status: 'cancelled', start_time: new Date(fx.bookings.future.startTime), title: null, cancellation_reason: null },
      { uid: fx.bookings.later.uid, status: 'accepted', start_time: new Date(fx.bookings.later.startTime), title: null, cancellation_reason: null },
    ].sort((x, y) => x.uid.localeCompare(y.uid)));
    const dump = await dumpDatabase(t.database.ownerUrl);
    for (const needle of [fx.subject.email, fx.subject.name]) expectAbsent(dump, needle, `dump after later webhooks: ${needle}`);
    const doc = await exportOf();
    for (const section of DATA_SECTIONS) expect({ section, rows: doc[section] }).toEqual({ section, rows: [] });
  });

  it('when an email nobody holds is erased, then a receipt with zero counts comes back all the same', async () => {
    const res = await request(t.app).delete(subjectPath('nobody.here@example.test')).set(asAdmin);
    expect(res.status).toBe(200);
    for (const v of Object.values(res.body.stores as Record<string, { pseudonymised: number; deleted: number }>)) expect(v).toEqual({ pseudonymised: 0, deleted: 0 });
    expect(res.body.crm).toEqual({ eventsEmitted: 0, status: 'skipped: no lead' });
  });

  it('when an erasure asks to cancel future bookings and the tenant is not connected to Cal.com, then the receipt says skipped: not connected', async () => {
    const res = await request(t.app).delete(subjectPath(fx.other.email)).query({ cancelFutureBookings: 'true' }).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.calcom).toEqual({ requested: true, status: 'skipped: not connected', cancellations: [] });
    const stored = await t.database.owner.query('SELECT calcom FROM erasure_receipts WHERE id = $1', [res.body.id]);
    expect(stored.rows[0].calcom).toEqual(res.body.calcom);
  });

  it('when booking jobs run after the erasure, then no lead is made from an erased person’s placeholder', async () => {
    const jobs = await t.database.owner.query<{ payload: Record<string, string> }>(
      "SELECT j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks k ON k.id = j.task_id WHERE k.identifier = 'booking.changed' AND j.payload->>'tenantId' = $1",
      [tenantId],
    );
    expect(jobs.rows.length).toBeGreaterThan(0);
    const handlers = jobHandlers(createContext({ config: t.config, db: t.database.db, fetch: offlineFetch, clock: t.clock, logger: capturingLogger().logger }));
    for (const j of jobs.rows) await handlers['booking.changed']!(j.payload, { id: '0', attempts: 1, maxAttempts: 1 });
    const leads = await t.database.owner.query<{ email: string }>('SELECT email FROM leads WHERE tenant_id = $1', [tenantId]);
    expect(leads.rows.filter((l) => l.email.endsWith('@erased.invalid'))).toEqual([]);
    expect(leads.rows.map((l) => l.email)).not.toContain(fx.subject.email.toLowerCase());
  });

  it('when export and erasure happened, then the audit log records who, when and what, with counts and no personal data', async () => {
    const res = await request(t.app).get(`/v1/admin/tenants/${SLUG}/audit`).query({ limit: 200 }).set(asAdmin);
    expect(res.status).toBe(200);
    const actions = res.body.data.map((e: { action: string }) => e.action);
    expect(actions).toContain('subject.export');
    expect(actions).toContain('subject.erase');
    expect(actions).toContain('consents.list');
    const erase = res.body.data.find((e: { action: string; subjectRef: string }) => e.action === 'subject.erase' && e.subjectRef === receipt.subjectRef);
    expect(erase).toMatchObject({ actor: { kind: 'environment_token', tokenId: null }, details: { receiptId: receipt.id, counts: { bookings: 2 } } });
    const text = JSON.stringify(res.body).toLowerCase();
    for (const needle of [fx.subject.email, fx.subject.name, fx.other.email]) expect(text).not.toContain(needle.toLowerCase());
  });

  it('when a tenant-scoped token erases, then the audit names that token', async () => {
    const token = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: SLUG });
    expect(token.status).toBe(201);
    const res = await request(t.app).delete(subjectPath('scoped.case@example.test')).set({ Authorization: `Bearer ${token.body.token}` });
    expect(res.status).toBe(200);
    expect(res.body.requestedBy).toBe(token.body.id);
    const audit = await request(t.app).get(`/v1/admin/tenants/${SLUG}/audit`).query({ limit: 1 }).set(asAdmin);
    expect(audit.body.data[0]).toMatchObject({ action: 'subject.erase', actor: { kind: 'admin_token', tokenId: token.body.id } });
    expect(audit.body.nextCursor).toMatch(/^[0-9]+$/);
  });
});

describe('look-alike addresses', () => {
  it('when another address contains the subject’s, then it is neither exported nor erased with them', async () => {
    const ann = { email: 'ann@lookalike.test', name: 'Ann Short' };
    const others = [
      { email: 'joann@lookalike.test', name: 'Joann Longer' },
      { email: 'ann@lookalike.testing', name: 'Ann Otherdomain' },
      { email: 'ann.b@lookalike.test', name: 'Ann Dotted' },
    ];
    const at = t.clock.now();
    const uid = (i: number) => `gdprLook000${i}`;
    await deliverOk(t, SLUG, personBooking('BOOKING_CREATED', at, { ...fx.bookings.later, uid: uid(0), bookingId: 6000 }, ann, { slug: SLUG }), SECRET);
    for (const [i, o] of others.entries()) {
      await deliverOk(t, SLUG, personBooking('BOOKING_CREATED', at, { ...fx.bookings.later, uid: uid(i + 1), bookingId: 6001 + i }, o, { slug: SLUG }), SECRET);
    }

    const doc = await exportOf(ann.email);
    expect(doc.bookings.map((b: { uid: string }) => b.uid)).toEqual([uid(0)]);
    expect(doc.rawDeliveries.map((d: { bookingUid: string }) => d.bookingUid)).toEqual([uid(0)]);

    const res = await request(t.app).delete(subjectPath(ann.email)).set(asAdmin);
    expect(res.body.stores.bookings).toEqual({ pseudonymised: 1, deleted: 0 });
    const kept = await t.database.owner.query<{ uid: string; title: string }>('SELECT uid, title FROM bookings WHERE uid = ANY($1) ORDER BY uid', [others.map((_, i) => uid(i + 1))]);
    expect(kept.rows.map((r) => r.title)).toEqual(others.map((o) => `Intro call between Jane Host and ${o.name}`));
  });
});

describe('a rejected booking', () => {
  it('when a person whose booking was rejected with a reason naming them is exported and erased, then the reason is in the export and gone after', async () => {
    const person = { email: 'rejected.case@example.test', name: 'Rhea Rejectcase' };
    const booking = { ...fx.bookings.later, uid: 'gdprRejected01', bookingId: 6100 };
    const reason = `Sorry ${person.name}, that slot is gone`;
    const at = t.clock.now();
    await deliverOk(t, SLUG, personBooking('BOOKING_CREATED', at, booking, person, { slug: SLUG }), SECRET);
    await deliverOk(t, SLUG, personBooking('BOOKING_REJECTED', new Date(at.getTime() + 1000), booking, person, { slug: SLUG, rejectionReason: reason }), SECRET);

    const doc = await exportOf(person.email);
    expect(doc.bookings.map((b: { uid: string; status: string; rejectionReason: string | null }) => [b.uid, b.status, b.rejectionReason])).toEqual([[booking.uid, 'rejected', reason]]);

    const res = await request(t.app).delete(subjectPath(person.email)).set(asAdmin);
    expect(res.status).toBe(200);
    const row = await t.database.owner.query<{ status: string; rejection_reason: string | null }>('SELECT status, rejection_reason FROM bookings WHERE uid = $1', [booking.uid]);
    expect(row.rows).toEqual([{ status: 'rejected', rejection_reason: null }]);
  });
});

describe('erasure racing a delivery', () => {
  it('when a delivery about the person is being stored while they are erased, then the erasure waits for it and erases it too', async () => {
    const person = { email: 'race.case@example.test', name: 'Rita Racecase' };
    const b = { ...fx.bookings.later, uid: 'gdprRace0005', bookingId: 5005 };
    const body = Buffer.from(personBooking('BOOKING_CREATED', t.clock.now(), b, person, { slug: SLUG }));
    let erasure: Promise<request.Response> | undefined;
    let finished = false;
    await t.database.db.withTenant(tenantId, async (tx) => {
      // The intake's position just after its erasure check: holding the shared lock, not yet committed.
      await lockForWrite(tx, tenantId);
      erasure = request(t.app).delete(subjectPath(person.email)).set(asAdmin).then((r) => {
        finished = true;
        return r;
      });
      // The signal: the erasure's session is queued behind our shared lock.
      await expect
        .poll(async () => (await t.database.owner.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]!.n)
        .toBeGreaterThan(0);
      expect(finished).toBe(false);
      const w = CalcomWebhook.parse(JSON.parse(body.toString('utf8')));
      const ids = await insertInbox(tx, {
        tenantId, bodySha256: createHash('sha256').update(body).digest(), trigger: w.trigger, eventCreatedAt: t.clock.now(), bookingUid: b.uid, receivedAt: t.clock.now(), body,
        status: 'processed', reason: null, processorVersion: 2,
      });
      await applyCalcomWebhook(tx, tenantId, w, ids!.inboxId, t.clock.now());
    });
    const res = await erasure!;
    expect(res.status).toBe(200);
    expect(res.body.stores.bookings).toEqual({ pseudonymised: 1, deleted: 0 });
    expect(res.body.stores.webhook_inbox).toEqual({ pseudonymised: 1, deleted: 0 });
    const dump = await dumpDatabase(t.database.ownerUrl);
    for (const needle of [person.email, person.name]) expectAbsent(dump, needle, `dump: ${needle}`);
  });
});

describe('refusals', () => {
  it('when the email is not an email, then 400 subject_email_invalid on export, erasure and consents alike, never echoing it', async () => {
    for (const req of [
      request(t.app).get(`/v1/admin/tenants/${SLUG}/subjects/not-an-email/export`).set(asAdmin),
      request(t.app).delete(`/v1/admin/tenants/${SLUG}/subjects/not-an-email`).set(asAdmin),
      request(t.app).get(`/v1/admin/tenants/${SLUG}/consents`).query({ email: 'not-an-email' }).set(asAdmin),
    ]) {
      const res = await req;
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('subject_email_invalid');
      expect(res.text).not.toContain('not-an-email');
    }
  });

  it('when the tenant does not exist, then 404 tenant_not_found', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/no-such-tenant/subjects/a%40b.example/export').set(asAdmin);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
  });

  it('when a token scoped to another tenant asks, then 403 forbidden', async () => {
    const token = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'gdpr-other' });
    const res = await request(t.app).delete(subjectPath()).set({ Authorization: `Bearer ${token.body.token}` });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('when no bearer token is sent, then 401 unauthorized', async () => {
    const res = await request(t.app).get(`${subjectPath()}/export`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });

  it('when the erasure flag is not a boolean, then 400 invalid_request', async () => {
    const res = await request(t.app).delete(subjectPath('x@y.example')).set(asAdmin).send({ cancelFutureBookings: 'yes please' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });
});

describe('retention policy', () => {
  it('when no policy was set, then the defaults show with no last run', async () => {
    const res = await request(t.app).get(`/v1/admin/tenants/${SLUG}/retention`).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      policy: { rawDeliveryDays: 30, bookingDays: 730, consentReceiptDays: 1095, cancelFutureBookingsOnErasure: false },
      isDefault: true,
      lastRun: null,
    });
  });

  it('when a valid policy is put, then it is stored, shown and audited', async () => {
    const res = await request(t.app).put(`/v1/admin/tenants/${SLUG}/retention`).set(asAdmin).send({ rawDeliveryDays: 14, bookingDays: 365 });
    expect(res.status).toBe(200);
    expect(res.body.policy).toEqual({ rawDeliveryDays: 14, bookingDays: 365, consentReceiptDays: 1095, cancelFutureBookingsOnErasure: false });
    expect(res.body.isDefault).toBe(false);
    const audit = await request(t.app).get(`/v1/admin/tenants/${SLUG}/audit`).query({ limit: 1 }).set(asAdmin);
    expect(audit.body.data[0]).toMatchObject({ action: 'retention.update', details: { rawDeliveryDays: 14, bookingDays: 365 } });
  });

  const refusals: { when: string; body: unknown; status: number; code: string }[] = [
    { when: 'a period is below its legal minimum', body: { bookingDays: 7 }, status: 400, code: 'invalid_request' },
    { when: 'a period is above its maximum', body: { consentReceiptDays: 99999 }, status: 400, code: 'invalid_request' },
    { when: 'a period is not a whole number', body: { rawDeliveryDays: 10.5 }, status: 400, code: 'invalid_request' },
    { when: 'an unknown field is sent', body: { rawDeliveryDay: 10 }, status: 400, code: 'invalid_request' },
    { when: 'the body is empty', body: {}, status: 400, code: 'invalid_request' },
    { when: 'raw deliveries would outlive bookings', body: { rawDeliveryDays: 400, bookingDays: 365 }, status: 422, code: 'retention_conflict' },
    { when: 'consent receipts would go before their bookings', body: { bookingDays: 1000, consentReceiptDays: 900 }, status: 422, code: 'retention_conflict' },
    { when: 'raw deliveries would go inside the webhook replay window', body: { rawDeliveryDays: 8 }, status: 422, code: 'retention_below_replay_window' },
  ];
  for (const r of refusals) {
    it(`when ${r.when}, then ${r.status} ${r.code} and the policy is unchanged`, async () => {
      const before = (await request(t.app).get(`/v1/admin/tenants/${SLUG}/retention`).set(asAdmin)).body.policy;
      const res = await request(t.app).put(`/v1/admin/tenants/${SLUG}/retention`).set(asAdmin).send(r.body as object);
      expect(res.status).toBe(r.status);
      expect(res.body.code).toBe(r.code);
      expect((await request(t.app).get(`/v1/admin/tenants/${SLUG}/retention`).set(asAdmin)).body.policy).toEqual(before);
    });
  }
});
