import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import { loopbackOnlyFetch, startReceiver, type Receiver } from '../crm/test-support/receiver.js';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, calcomBody, createTenant, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';
import { leadsCrmJobHandlers } from './leads.jobs.js';
import { contextOf, pumpDeliveries, runJobs } from './leads.test-support.js';

const CAL_SECRET = 'whsec_leads_test_secret_000000000000000';

let t: TestApp;
let ctx: AppContext;
let receiver: Receiver;

beforeAll(async () => {
  t = await createTestApp({ env: { CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS: 'true' }, fetch: loopbackOnlyFetch });
  ctx = contextOf(t, loopbackOnlyFetch);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function tenant(slug: string) {
  const id = await createTenant(t, slug);
  await setWebhookSecret(t, id, CAL_SECRET);
  return id;
}

const nonces = new Map<string, string>();

/**
 * A consent receipt as the widget stores one, with its session nonce (arranged directly: the
 * widget flow has its own tests). A booking is attributed to it only when its metadata
 * carries that nonce ({@link proof}).
 */
async function receipt(tenantId: string, purposes: string[], utm: Record<string, string> = {}): Promise<string> {
  const nonce = randomBytes(32).toString('base64url');
  const r = await t.database.owner.query<{ id: string }>(
    `INSERT INTO consent_receipts (tenant_id, session_id, consent_version, consent_text_sha256, purposes, page_origin, page_url, utm, ip_prefix, user_agent_family, nonce_sha256)
     VALUES ($1, gen_random_uuid(), 'v1', repeat('a', 64), $2, 'https://www.acme.test', 'https://www.acme.test/contact', $3, '203.0.113.0/24', 'Chrome', $4) RETURNING id`,
    [tenantId, purposes, JSON.stringify(utm), createHash('sha256').update(nonce).digest()],
  );
  nonces.set(r.rows[0]!.id, nonce);
  return r.rows[0]!.id;
}

/** The metadata entry the widget puts on a booking made through the receipt's session. */
const proof = (receiptId: string) => ({ cb_nonce: nonces.get(receiptId)! });

const answer = (label: string, value: unknown) => ({ label, value });

async function send(slug: string, trigger: string, fields: Record<string, unknown>) {
  const body = trigger === 'BOOKING_NO_SHOW_UPDATED' ? calcomBody(trigger, t.clock.now(), fields) : bookingBody(trigger, t.clock.now(), { metadata: {}, ...fields });
  const res = await deliver(t.app, slug, body, { secret: CAL_SECRET });
  expect(res.status).toBe(200);
  t.clock.advance(1000);
  await runJobs(t, leadsCrmJobHandlers(ctx), ['booking.changed']);
}

const person = (email: string, name: string) => ({ attendees: [{ name, email, timeZone: 'Europe/London' }] });

describe('lead scoring through the webhook intake', () => {
  let tenantId: string;
  let receiptId: string;

  beforeAll(async () => {
    tenantId = await tenant('leads-a');
    receiptId = await receipt(tenantId, ['booking', 'follow_up']);
    await send('leads-a', 'BOOKING_CREATED', {
      uid: 'la-ada-1',
      eventTypeId: 42,
      ...person('Ada@Acme.example', 'Ada Lovelace'),
      responses: { name: answer('your_name', 'Ada Lovelace'), company_size: answer('Company size', '120'), budget: answer('Budget', '15,000') },
      metadata: { ...proof(receiptId), cb_utm_source: 'google', cb_utm_medium: 'cpc' },
    });
    await send('leads-a', 'BOOKING_CREATED', { uid: 'la-bob-1', ...person('bob@gmail.com', 'Bob Free') });
    await send('leads-a', 'BOOKING_NO_SHOW_UPDATED', { bookingUid: 'la-bob-1', attendees: [{ email: 'bob@gmail.com', noShow: true }] });
    await send('leads-a', 'BOOKING_CREATED', { uid: 'la-cy-1', ...person('cy@corp.example', 'Cy Corp') });
    await send('leads-a', 'BOOKING_CANCELLED', { uid: 'la-cy-1', ...person('cy@corp.example', 'Cy Corp') });
  });

  const list = (query = '') => request(t.app).get(`/v1/admin/tenants/leads-a/leads${query}`).set(asAdmin);

  it('when bookings arrive, then one lead per booker email is scored by the default rules, highest first', async () => {
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body.data.map((l: { email: string; score: number; grade: string }) => [l.email, l.score, l.grade])).toEqual([
      ['ada@acme.example', 50, 'A'],
      ['cy@corp.example', 0, 'C'],
      ['bob@gmail.com', -25, 'D'],
    ]);
    expect(res.body.data[0]).toMatchObject({ name: 'Ada Lovelace', ruleSetVersion: 0, bookingCount: 1, marketingConsent: true });
    expect(res.body.data[0].explanation.map((e: { ruleId: string }) => e.ruleId)).toEqual(['company-email', 'company-size-50', 'budget-10k', 'paid-traffic']);
    expect(res.body.data[2].explanation).toEqual([
      { ruleId: 'free-mail', description: 'Books with a free-mail address', points: -5, count: 1, total: -5 },
      { ruleId: 'no-show', description: 'Each missed meeting', points: -20, count: 1, total: -20 },
    ]);
  });

  it('when listing by ascending score, by grade, or a page at a time, then the order and filter hold', async () => {
    expect((await list('?sort=score')).body.data.map((l: { email: string }) => l.email)).toEqual(['bob@gmail.com', 'cy@corp.example', 'ada@acme.example']);
    expect((await list('?grade=A')).body.data.map((l: { email: string }) => l.email)).toEqual(['ada@acme.example']);
    const first = await list('?limit=2');
    expect(first.body.data).toHaveLength(2);
    const second = await list(`?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((l: { email: string }) => l.email)).toEqual(['bob@gmail.com']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('when one lead is read, then it comes with its bookings, score, explanation and consent receipts', async () => {
    const ada = (await list('?grade=A')).body.data[0];
    const res = await request(t.app).get(`/v1/admin/tenants/leads-a/leads/${ada.id}`).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ada.id, email: 'ada@acme.example', score: 50, grade: 'A' });
    expect(res.body.bookings).toEqual([
      expect.objectContaining({ uid: 'la-ada-1', status: 'accepted', eventTypeId: 42, eventType: 'intro-call', consentReceiptId: receiptId, utm: { source: 'google', medium: 'cpc' } }),
    ]);
    expect(res.body.consentReceipts).toEqual([expect.objectContaining({ id: receiptId, purposes: ['booking', 'follow_up'] })]);
  });

  it('when new rules are previewed, then each current lead shows its score before and after, and nothing is stored', async () => {
    const rules = {
      rules: [
        { id: 'corp', points: 1, when: { kind: 'email_domain', is: 'company' } },
        { id: 'big-budget', points: 100, when: { kind: 'answer', field: 'budget', min: 10000 } },
      ],
      bands: [{ grade: 'HOT', min: 100 }, { grade: 'WARM', min: 1 }],
    };
    const res = await request(t.app).post('/v1/admin/tenants/leads-a/lead-rules/preview').set(asAdmin).send(rules);
    expect(res.status).toBe(200);
    const after = Object.fromEntries(res.body.data.map((p: { email: string; after: { score: number; grade: string | null } }) => [p.email, p.after]));
    expect(after).toEqual({ 'ada@acme.example': { score: 101, grade: 'HOT' }, 'cy@corp.example': { score: 1, grade: 'WARM' }, 'bob@gmail.com': { score: 0, grade: null } });
    expect(res.body.data.find((p: { email: string }) => p.email === 'ada@acme.example').before).toMatchObject({ score: 50 });
    expect((await request(t.app).get('/v1/admin/tenants/leads-a/lead-rules').set(asAdmin)).body).toMatchObject({ version: 0, isDefault: true });
    const bad = await request(t.app).post('/v1/admin/tenants/leads-a/lead-rules/preview').set(asAdmin).send({ rules: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_request');
  });

  it('when the rules change, then a new version is stored, a rescore job runs and scores and explanations follow the new rules', async () => {
    expect((await request(t.app).get('/v1/admin/tenants/leads-a/lead-rules').set(asAdmin)).body).toMatchObject({ version: 0, isDefault: true });
    const rules = {
      rules: [
        { id: 'corp', points: 1, when: { kind: 'email_domain', is: 'company' } },
        { id: 'big-budget', description: 'Budget of 10k+', points: 100, when: { kind: 'answer', field: 'budget', min: 10000 } },
      ],
      bands: [{ grade: 'HOT', min: 100 }, { grade: 'WARM', min: 1 }],
    };
    const put = await request(t.app).put('/v1/admin/tenants/leads-a/lead-rules').set(asAdmin).send(rules);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ version: 1, isDefault: false, marketingFields: [] });
    // Before the job runs, nothing changed.
    expect((await list()).body.data[0]).toMatchObject({ score: 50, ruleSetVersion: 0 });

    expect(await runJobs(t, leadsCrmJobHandlers(ctx), ['leads.rescore'])).toBe(1);
    const after = (await list()).body.data;
    expect(after.map((l: { email: string; score: number; grade: string | null; ruleSetVersion: number }) => [l.email, l.score, l.grade, l.ruleSetVersion])).toEqual([
      ['ada@acme.example', 101, 'HOT', 1],
      ['cy@corp.example', 1, 'WARM', 1],
      ['bob@gmail.com', 0, null, 1],
    ]);
    expect(after[0].explanation).toEqual([
      { ruleId: 'corp', description: null, points: 1, count: 1, total: 1 },
      { ruleId: 'big-budget', description: 'Budget of 10k+', points: 100, count: 1, total: 100 },
    ]);
    expect(after[2].explanation).toEqual([]);
    const again = await request(t.app).put('/v1/admin/tenants/leads-a/lead-rules').set(asAdmin).send(rules);
    expect(again.body.version).toBe(2);
  });
});

describe('consent decides what leaves', () => {
  it('when the attendee did not grant the marketing purpose, then the CRM gets the booking but no UTM, no marketing answers and no marketing rules', async () => {
    const tenantId = await tenant('leads-consent');
    const dest = await request(t.app).post('/v1/admin/tenants/leads-consent/destinations').set(asAdmin).send({ kind: 'webhook', url: `${receiver.url}/consent` });
    expect(dest.status).toBe(201);
    const put = await request(t.app)
      .put('/v1/admin/tenants/leads-consent/lead-rules')
      .set(asAdmin)
      .send({
        rules: [
          { id: 'from-google', points: 7, when: { kind: 'utm', param: 'source', equals: ['google'] } },
          { id: 'budget', points: 20, when: { kind: 'answer', field: 'budget', min: 1000 } },
          { id: 'size', points: 3, when: { kind: 'answer', field: 'company_size', min: 10 } },
        ],
        bands: [{ grade: 'A', min: 0 }],
        marketingFields: ['budget'],
      });
    expect(put.status).toBe(200);
    const withoutMarketing = await receipt(tenantId, ['booking'], { campaign: 'spring' });
    const withMarketing = await receipt(tenantId, ['booking', 'follow_up'], { campaign: 'spring' });
    const fields = (uid: string, email: string, receiptId: string) => ({
      uid,
      ...person(email, 'Some One'),
      responses: { budget: answer('Budget', '5000'), company_size: answer('Company size', '40') },
      metadata: { ...proof(receiptId), cb_utm_source: 'google' },
    });
    await send('leads-consent', 'BOOKING_CREATED', fields('lc-no', 'no@acme.example', withoutMarketing));
    await send('leads-consent', 'BOOKING_CREATED', fields('lc-yes', 'yes@acme.example', withMarketing));
    await pumpDeliveries(t, ctx);

    const got = receiver.received.filter((r) => r.path === '/consent').map((r) => JSON.parse(r.body));
    const of = (email: string, type: string) => got.find((b) => b.type === type && b.data.lead.email === email)!.data;

    const noLead = of('no@acme.example', 'lead.created');
    expect(noLead.consent).toEqual({ marketing: false, receiptId: withoutMarketing, purposes: ['booking'] });
    expect(noLead).not.toHaveProperty('utm');
    expect(noLead.lead.explanation.map((e: { ruleId: string }) => e.ruleId)).toEqual(['size']);
    const noBooking = of('no@acme.example', 'booking.created');
    expect(noBooking).not.toHaveProperty('utm');
    expect(noBooking.booking.answers).toEqual({ company_size: '40' });
    expect(noBooking.booking).toMatchObject({ uid: 'lc-no', attendee: { email: 'no@acme.example' } });
    expect(JSON.stringify(got.filter((b) => b.data.lead.email === 'no@acme.example'))).not.toMatch(/google|spring|5000/);

    const yesLead = of('yes@acme.example', 'lead.created');
    expect(yesLead.consent.marketing).toBe(true);
    expect(yesLead.utm).toEqual({ source: 'google', campaign: 'spring' });
    expect(yesLead.lead.explanation.map((e: { ruleId: string }) => e.ruleId)).toEqual(['from-google', 'budget', 'size']);
    expect(of('yes@acme.example', 'booking.created').booking.answers).toEqual({ budget: '5000', company_size: '40' });
  });
});

describe('attribution only through a proven link (issue 13, finding 1)', () => {
  it("when a booking's metadata merely names someone's receipt and UTM values, then its lead has no consent, no marketing opt-in and no UTM", async () => {
    const tenantId = await tenant('leads-forge');
    const attacker = await receipt(tenantId, ['booking', 'follow_up'], { source: 'attacker' });
    await send('leads-forge', 'BOOKING_CREATED', {
      uid: 'lf-victim-1',
      ...person('victim@corp.example', 'Vic Tim'),
      metadata: { cb_receipt: attacker, cb_utm_source: 'attacker', utm_campaign: 'forged' },
    });
    const list = await request(t.app).get('/v1/admin/tenants/leads-forge/leads').set(asAdmin);
    expect(list.status).toBe(200);
    const lead = list.body.data.find((l: { email: string }) => l.email === 'victim@corp.example');
    expect(lead).toMatchObject({ marketingConsent: false });
    const one = await request(t.app).get(`/v1/admin/tenants/leads-forge/leads/${lead.id}`).set(asAdmin);
    expect(one.body.bookings).toEqual([expect.objectContaining({ uid: 'lf-victim-1', consentReceiptId: null, utm: {} })]);
    expect(one.body.consentReceipts).toEqual([]);
  });
});

describe('lead API refusals', () => {
  it('when the lead id is unknown, then 404 lead_not_found', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/leads-a/leads/00000000-0000-4000-8000-000000000000').set(asAdmin);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('lead_not_found');
  });

  it('when the lead id is not a uuid, then 400 invalid_request', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/leads-a/leads/not-an-id').set(asAdmin);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });

  it('when the sort or cursor is not one the API knows, then 400 invalid_request', async () => {
    for (const q of ['?sort=name', '?cursor=bm9wZQ']) {
      const res = await request(t.app).get(`/v1/admin/tenants/leads-a/leads${q}`).set(asAdmin);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_request');
    }
  });

  it('when the rules do not pass the schema, then 400 invalid_request naming the field, and no version is stored', async () => {
    const res = await request(t.app)
      .put('/v1/admin/tenants/leads-a/lead-rules')
      .set(asAdmin)
      .send({ rules: [{ id: 'x', points: 5, when: { kind: 'astrology' } }], bands: [{ grade: 'A', min: 0 }] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
    expect(res.body.errors[0].path).toMatch(/^body\.rules\.0\.when/);
    expect((await request(t.app).get('/v1/admin/tenants/leads-a/lead-rules').set(asAdmin)).body.version).toBe(2);
  });

  it('when the tenant is unknown, then 404 tenant_not_found', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/nobody-here/leads').set(asAdmin);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
  });

  it('when no bearer token is sent, then 401 unauthorized', async () => {
    const res = await request(t.app).get('/v1/admin/tenants/leads-a/lead-rules');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });
});
