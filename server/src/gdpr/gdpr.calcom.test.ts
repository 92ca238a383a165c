import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_API_KEY, SANDBOX_DEMO_EVENT_SLUG } from '../../../test/calcom-sandbox/index.js';
import { weekdayAtUtc } from '../../../test/calcom-sandbox/test-support.js';
import { asAdmin } from '../test-support/app.js';
import { connectWithOAuth, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { expectAbsent } from './gdpr.test-support.js';
import { dumpDatabase } from '../test-support/database.js';

// Erasure against the Cal.com sandbox: future bookings cancelled through the
// tenant's connection, and what Cal.com sends back afterwards (the
// cancellation webhooks, a reconciliation) stored without the person.

const SUBJECT = { name: 'Hedy Subjectova', email: 'hedy.subjectova@example.test', timeZone: 'Europe/Vienna' };
const OTHER = { name: 'Ole Unrelated', email: 'ole.unrelated@example.test', timeZone: 'UTC' };

let database: TestDatabase;
let h: CalcomHarness;
const app = () => h.instances[0]!.app;

async function calApi(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${h.sandbox.apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}`, 'cal-api-version': '2024-08-13', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: unknown };
  if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}

const book = (daysAhead: number, hour: number, attendee: typeof SUBJECT) =>
  calApi('/bookings', { start: weekdayAtUtc(new Date(), daysAhead, hour).toISOString(), eventTypeSlug: SANDBOX_DEMO_EVENT_SLUG, username: 'demo', attendee, metadata: { calbridge_tenant: 'forget' } });

/** A full dump of this file's database holds neither the subject's email nor their name. */
async function expectSubjectGone(where: string) {
  const dump = await dumpDatabase(database.ownerUrl);
  for (const needle of [SUBJECT.email, SUBJECT.name]) expectAbsent(dump, needle, `${where}: ${needle}`);
}

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database);
  for (const slug of ['forget', 'unlinked']) {
    expect((await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [] })).status).toBe(201);
  }
  expect((await connectWithOAuth(h, app(), 'forget')).callback.status).toBe(200);
});
afterAll(async () => {
  await h.close();
  await database.drop();
});

describe('erasure with Cal.com', () => {
  let futureUids: string[];
  let otherUid: string;

  it('when a connected tenant erases someone with cancelFutureBookings, then Cal.com cancels their future bookings and the receipt lists each', async () => {
    const a = await book(3, 9, SUBJECT);
    const b = await book(4, 10, SUBJECT);
    const o = await book(4, 11, OTHER);
    futureUids = [a.uid, b.uid].sort();
    otherUid = o.uid;
    await h.sandbox.control.flush();
    const ours = await request(app()).get('/v1/admin/tenants/forget/bookings').query({ email: SUBJECT.email }).set(asAdmin);
    expect(ours.body.data.map((x: { uid: string }) => x.uid).sort()).toEqual(futureUids);

    const res = await request(app()).delete(`/v1/admin/tenants/forget/subjects/${encodeURIComponent(SUBJECT.email)}`).set(asAdmin).send({ cancelFutureBookings: true });
    expect(res.status).toBe(200);
    expect(res.body.calcom.status).toBe('done');
    expect(res.body.calcom.cancellations.map((c: { bookingUid: string }) => c.bookingUid).sort()).toEqual(futureUids);
    expect(res.body.calcom.cancellations.every((c: { outcome: string }) => c.outcome === 'cancelled')).toBe(true);
    for (const uid of futureUids) expect((await calApi(`/bookings/${uid}`)).status).toBe('cancelled');
    expect((await calApi(`/bookings/${otherUid}`)).status).toBe('accepted');
  });

  it('when Cal.com then sends the cancellations, then they are stored pseudonymised and the bookings show cancelled', async () => {
    await h.sandbox.control.flush();
    const { rows } = await database.owner.query<{ uid: string; status: string }>(
      "SELECT b.uid, b.status FROM bookings b JOIN tenants t ON t.id = b.tenant_id WHERE t.slug = 'forget' AND b.uid = ANY($1) ORDER BY b.uid",
      [futureUids],
    );
    expect(rows).toEqual(futureUids.map((uid) => ({ uid, status: 'cancelled' })));
    const cancelled = await database.owner.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM webhook_inbox WHERE trigger_event = 'BOOKING_CANCELLED' AND booking_uid = ANY($1)",
      [futureUids],
    );
    expect(cancelled.rows[0]!.n).toBe(2);
    await expectSubjectGone('after the cancellation webhooks');
  });

  it('when reconciliation reads the bookings back from Cal.com, then the person does not come back', async () => {
    // As if our copies were lost: a full re-read creates them again from Cal.com, which still has the attendee.
    await database.owner.query("UPDATE calcom_connections SET last_synced_at = NULL WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'forget')");
    await database.owner.query('DELETE FROM booking_events WHERE booking_uid = ANY($1)', [futureUids]);
    await database.owner.query('DELETE FROM bookings WHERE uid = ANY($1)', [futureUids]);
    const res = await request(app()).post('/v1/admin/tenants/forget/reconcile').set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(2);
    const back = await database.owner.query<{ status: string; attendee_emails: string[]; title: string | null }>('SELECT status, attendee_emails, title FROM bookings WHERE uid = ANY($1)', [futureUids]);
    expect(back.rows).toHaveLength(2);
    for (const r of back.rows) expect(r).toEqual({ status: 'cancelled', attendee_emails: [expect.stringMatching(/@erased\.invalid$/)], title: null });
    await expectSubjectGone('after reconciliation');
    const other = await request(app()).get(`/v1/admin/tenants/forget/bookings/${otherUid}`).set(asAdmin);
    expect(other.body.attendees[0]).toMatchObject({ email: OTHER.email, name: OTHER.name });
  });

  it('when the tenant policy says to cancel and the erasure does not say, then the policy decides; an unconnected tenant is skipped', async () => {
    const put = await request(app()).put('/v1/admin/tenants/unlinked/retention').set(asAdmin).send({ cancelFutureBookingsOnErasure: true });
    expect(put.status).toBe(200);
    const res = await request(app()).delete(`/v1/admin/tenants/unlinked/subjects/${encodeURIComponent(OTHER.email)}`).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.calcom).toEqual({ requested: true, status: 'skipped: not connected', cancellations: [] });
  });

  it('when the erasure says false, then nothing is cancelled even though the policy of a connected tenant says to', async () => {
    expect((await request(app()).put('/v1/admin/tenants/forget/retention').set(asAdmin).send({ cancelFutureBookingsOnErasure: true })).status).toBe(200);
    const res = await request(app()).delete(`/v1/admin/tenants/forget/subjects/${encodeURIComponent(OTHER.email)}`).query({ cancelFutureBookings: 'false' }).set(asAdmin);
    expect(res.status).toBe(200);
    expect(res.body.calcom).toEqual({ requested: false, status: 'skipped: not requested', cancellations: [] });
    expect((await calApi(`/bookings/${otherUid}`)).status).toBe('accepted');
  });
});
