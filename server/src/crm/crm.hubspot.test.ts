import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import { leadsCrmJobHandlers } from '../leads/leads.jobs.js';
import { contextOf, pumpDeliveries, runJobs } from '../leads/leads.test-support.js';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, createTenant, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';
import { bookingPageUrl, MEETING_TO_CONTACT } from './crm.hubspot.js';
import { emitCrmEvent } from './crm.outbox.js';
import { startHubspotStandin } from './test-support/hubspot-standin.js';
import { expectAbsent } from '../gdpr/gdpr.test-support.js';
import { dumpDatabase } from '../test-support/database.js';
import { loopbackOnlyFetch } from './test-support/receiver.js';

const CAL_SECRET = 'whsec_hubspot_test_secret_0000000000000';
const TOKEN = 'pat-na1-22222222-2222-2222-2222-222222222222';
const CAL_APP = 'https://cal.example.test';

let t: TestApp;
let ctx: AppContext;
let hubspot: Awaited<ReturnType<typeof startHubspotStandin>>;
let tenantId: string;

beforeAll(async () => {
  t = await createTestApp({ env: { CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS: 'true', CALCOM_APP_URL: CAL_APP }, fetch: loopbackOnlyFetch });
  ctx = contextOf(t, loopbackOnlyFetch);
  hubspot = await startHubspotStandin(TOKEN);
  tenantId = await createTenant(t, 'hs');
  await setWebhookSecret(t, tenantId, CAL_SECRET);
  const res = await request(t.app).post('/v1/admin/tenants/hs/destinations').set(asAdmin).send({ kind: 'hubspot', accessToken: TOKEN, url: hubspot.url });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await hubspot.close();
  await t.close();
});

async function send(trigger: string, fields: Record<string, unknown>) {
  const res = await deliver(t.app, 'hs', bookingBody(trigger, t.clock.now(), { metadata: {}, ...fields }), { secret: CAL_SECRET });
  expect(res.status).toBe(200);
  t.clock.advance(1000);
  await runJobs(t, leadsCrmJobHandlers(ctx), ['booking.changed']);
  await pumpDeliveries(t, ctx);
}

const ada = { attendees: [{ name: 'Ada Lovelace', email: 'ada@acme.example', timeZone: 'Europe/London' }] };

describe('HubSpot destination (against a stand-in of the CRM v3 API)', () => {
  it('when a new person books, then the contact is searched by email, created, and a meeting is created associated with it', async () => {
    await send('BOOKING_CREATED', { uid: 'hs-1', title: 'Intro call', startTime: '2026-12-01T10:00:00Z', endTime: '2026-12-01T10:30:00Z', ...ada });
    const contacts = [...hubspot.contacts.values()];
    expect(contacts.map((c) => c.properties)).toEqual([{ email: 'ada@acme.example', firstname: 'Ada', lastname: 'Lovelace' }]);
    const meetings = [...hubspot.meetings.values()];
    expect(meetings).toHaveLength(1);
    expect(meetings[0]!.properties).toEqual({
      hs_timestamp: '2026-12-01T10:00:00.000Z',
      hs_meeting_title: 'Intro call',
      hs_meeting_start_time: '2026-12-01T10:00:00.000Z',
      hs_meeting_end_time: '2026-12-01T10:30:00.000Z',
      hs_meeting_outcome: 'SCHEDULED',
      hs_meeting_external_url: bookingPageUrl(CAL_APP, 'hs-1'),
    });
    expect(meetings[0]!.associations).toEqual([{ toId: contacts[0]!.id, typeId: MEETING_TO_CONTACT }]);
    const search = hubspot.requests.find((r) => r.path === '/crm/v3/objects/contacts/search')!;
    expect(search.body).toEqual({ filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'ada@acme.example' }] }], properties: ['email'], limit: 1 });
  });

  it('when HubSpot rate-limits, then the message is retried after Retry-After and no second meeting appears', async () => {
    hubspot.failNext(1, 429, { 'Retry-After': '10' });
    await send('BOOKING_CREATED', { uid: 'hs-2', title: 'Second call', startTime: '2026-12-02T10:00:00Z', endTime: '2026-12-02T10:30:00Z', ...ada });
    expect(hubspot.contacts.size).toBe(1);
    const urls = [...hubspot.meetings.values()].map((m) => m.properties.hs_meeting_external_url);
    expect(urls).toEqual([bookingPageUrl(CAL_APP, 'hs-1'), bookingPageUrl(CAL_APP, 'hs-2')]);
    expect(hubspot.requests.some((r) => r.method === 'PATCH' && r.path.startsWith('/crm/v3/objects/contacts/'))).toBe(true);
    const dl = await request(t.app).get('/v1/admin/tenants/hs/deliveries?status=delivered').set(asAdmin);
    expect(dl.body.data.some((d: { attempts: { statusCode: number }[] }) => d.attempts[0]?.statusCode === 429)).toBe(true);
  });

  it('when a booking is cancelled, then its meeting is found by the booking page URL and marked CANCELED', async () => {
    await send('BOOKING_CANCELLED', { uid: 'hs-1', title: 'Intro call', startTime: '2026-12-01T10:00:00Z', endTime: '2026-12-01T10:30:00Z', ...ada });
    const byUrl = (uid: string) => [...hubspot.meetings.values()].find((m) => m.properties.hs_meeting_external_url === bookingPageUrl(CAL_APP, uid))!;
    expect(byUrl('hs-1').properties.hs_meeting_outcome).toBe('CANCELED');
    expect(byUrl('hs-2').properties.hs_meeting_outcome).toBe('SCHEDULED');
    expect(hubspot.meetings.size).toBe(2);
  });

  it('when the person is erased, then HubSpot gets a GDPR delete of their contact by the id recorded at booking, and no email of theirs remains in our database', async () => {
    const contactId = [...hubspot.contacts.values()].find((c) => c.properties.email === 'ada@acme.example')!.id;
    const stored = await t.database.owner.query(`SELECT lead_id, contact_id FROM crm_hubspot_contacts WHERE tenant_id = $1`, [tenantId]);
    expect(stored.rows.map((r) => r.contact_id)).toEqual([contactId]);
    // Subject access shows the CRM record that points at the person.
    const exported = await request(t.app).get(`/v1/admin/tenants/hs/subjects/${encodeURIComponent('ada@acme.example')}/export`).set(asAdmin);
    expect(exported.body.crmContacts).toEqual([expect.objectContaining({ leadId: stored.rows[0].lead_id, contactId })]);

    const res = await request(t.app).delete(`/v1/admin/tenants/hs/subjects/${encodeURIComponent('ada@acme.example')}`).set(asAdmin).send({ cancelFutureBookings: false });
    expect(res.status).toBe(200);
    expect(res.body.crm).toEqual({ eventsEmitted: 1, status: 'queued' });
    await pumpDeliveries(t, ctx);

    const deletes = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts/gdpr-delete');
    expect(deletes).toEqual([{ method: 'POST', path: '/crm/v3/objects/contacts/gdpr-delete', body: { objectId: contactId } }]);
    expect(hubspot.gdprDeleted).toEqual([contactId]);
    expect(hubspot.contacts.has(contactId)).toBe(false);
    expect([...hubspot.meetings.values()].flatMap((m) => m.associations)).toEqual([]);
    expect((await t.database.owner.query(`SELECT 1 FROM crm_hubspot_contacts WHERE tenant_id = $1`, [tenantId])).rowCount).toBe(0);
    const dump = await dumpDatabase(t.database.ownerUrl);
    expect(dump).toContain('crm_hubspot_contacts');
    for (const needle of ['ada@acme.example', 'Ada Lovelace']) expectAbsent(dump, needle, `dump: ${needle}`);
  });

  it('when a lead never reached HubSpot, then its erasure sends no GDPR delete', async () => {
    const before = hubspot.requests.length;
    await t.database.db.withTenant(tenantId, (tx) =>
      emitCrmEvent(tx, { tenantId, type: 'subject.erased', leadId: '00000000-0000-4000-8000-000000000001', data: { leadId: '00000000-0000-4000-8000-000000000001', subjectRef: 'ref' } }, { now: t.clock.now() }),
    );
    await pumpDeliveries(t, ctx);
    expect(hubspot.requests.slice(before)).toEqual([]);
    const dl = await request(t.app).get('/v1/admin/tenants/hs/deliveries?status=delivered').set(asAdmin);
    expect(dl.body.data[0]).toMatchObject({ eventType: 'subject.erased', status: 'delivered' });
  });
});
