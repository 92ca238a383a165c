import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, calcomBody, createTenant, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';

const SECRET = 'whsec_bookings_acme_000000000000000';
let t: TestApp;
const at = (minutesAgo: number) => new Date(t.clock.now().getTime() - minutesAgo * 60_000);
const send = (body: string, slug = 'acme', secret = SECRET) => deliver(t.app, slug, body, { secret });
const getBooking = (uid: string, slug = 'acme') => request(t.app).get(`/v1/admin/tenants/${slug}/bookings/${uid}`).set(asAdmin);

beforeAll(async () => {
  t = await createTestApp();
  await setWebhookSecret(t, await createTenant(t, 'acme'), SECRET);
  await setWebhookSecret(t, await createTenant(t, 'other'), 'whsec_bookings_other_00000000000000');
});
afterAll(() => t.close());

describe('booking projection', () => {
  it('when a late BOOKING_CREATED arrives after BOOKING_CANCELLED, then the booking stays cancelled and both are in its history', async () => {
    expect((await send(bookingBody('BOOKING_CANCELLED', at(5), { uid: 'late-1', cancellationReason: 'no longer needed' }))).status).toBe(200);
    expect((await send(bookingBody('BOOKING_CREATED', at(10), { uid: 'late-1' }))).status).toBe(200);
    const res = await getBooking('late-1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ uid: 'late-1', status: 'cancelled', cancellationReason: 'no longer needed', startTime: '2026-12-01T10:00:00.000Z' });
    expect(res.body.events.map((e: { trigger: string; current: boolean }) => [e.trigger, e.current])).toEqual([
      ['BOOKING_CREATED', false],
      ['BOOKING_CANCELLED', true],
    ]);
  });

  it('when BOOKING_RESCHEDULED arrives, then the new booking points back to the old one, which is cancelled and points forward', async () => {
    await send(bookingBody('BOOKING_CREATED', at(30), { uid: 'resch-old', startTime: '2026-12-02T09:00:00Z', endTime: '2026-12-02T09:30:00Z' }));
    await send(
      bookingBody('BOOKING_RESCHEDULED', at(20), {
        uid: 'resch-new',
        bookingId: 2002,
        startTime: '2026-12-03T09:00:00Z',
        endTime: '2026-12-03T09:30:00Z',
        rescheduleUid: 'resch-old',
        rescheduleId: 2001,
        rescheduleStartTime: '2026-12-02T09:00:00Z',
        rescheduleEndTime: '2026-12-02T09:30:00Z',
      }),
    );
    const neu = await getBooking('resch-new');
    expect(neu.body).toMatchObject({ status: 'accepted', rescheduledFromUid: 'resch-old', rescheduledToUid: null, startTime: '2026-12-03T09:00:00.000Z' });
    const old = await getBooking('resch-old');
    expect(old.body).toMatchObject({ status: 'cancelled', rescheduledToUid: 'resch-new', startTime: '2026-12-02T09:00:00.000Z' });
  });

  it('when the reschedule arrives before the original booking, then the original is created cancelled and later fills in without reviving', async () => {
    await send(bookingBody('BOOKING_RESCHEDULED', at(20), { uid: 'early-new', rescheduleUid: 'early-old', rescheduleStartTime: '2026-12-04T09:00:00Z', rescheduleEndTime: '2026-12-04T09:30:00Z' }));
    await send(bookingBody('BOOKING_CREATED', at(40), { uid: 'early-old', title: 'Original title', startTime: '2026-12-04T09:00:00Z', endTime: '2026-12-04T09:30:00Z' }));
    const old = await getBooking('early-old');
    expect(old.body).toMatchObject({ status: 'cancelled', rescheduledToUid: 'early-new', calcomId: 1001 });
  });

  it('when a booking is requested, then accepted, then its status moves from pending to accepted', async () => {
    await send(bookingBody('BOOKING_REQUESTED', at(15), { uid: 'req-1', status: 'PENDING' }));
    expect((await getBooking('req-1')).body.status).toBe('pending');
    await send(bookingBody('BOOKING_CREATED', at(10), { uid: 'req-1', status: 'ACCEPTED' }));
    expect((await getBooking('req-1')).body.status).toBe('accepted');
  });

  it('when a booking is rejected, then its status is rejected', async () => {
    await send(bookingBody('BOOKING_REJECTED', at(10), { uid: 'rej-1', status: 'REJECTED' }));
    expect((await getBooking('rej-1')).body.status).toBe('rejected');
  });

  it('when meeting and no-show events arrive, then they are in the history at the meeting times and the status does not move', async () => {
    await send(bookingBody('BOOKING_CREATED', at(60), { uid: 'meet-1', bookingId: 7101 }));
    // Scheduled triggers are flat, their createdAt the booking's creation (scheduleTrigger.ts).
    const flat = (triggerEvent: string) => JSON.stringify({ triggerEvent, id: 7101, uid: 'meet-1', startTime: at(50).toISOString(), endTime: at(20).toISOString(), createdAt: at(60).toISOString() });
    expect((await send(flat('MEETING_STARTED'))).status).toBe(200);
    expect((await send(flat('MEETING_ENDED'))).status).toBe(200);
    await send(calcomBody('BOOKING_NO_SHOW_UPDATED', at(10), { message: 'x', bookingUid: 'meet-1', attendees: [{ email: 'ADA@example.test', noShow: true }] }));
    const res = await getBooking('meet-1');
    expect(res.body).toMatchObject({ status: 'accepted', meetingStartedAt: at(50).toISOString(), meetingEndedAt: at(20).toISOString() });
    expect(res.body.attendees[0]).toMatchObject({ email: 'ada@example.test', noShow: true });
    expect(res.body.events.map((e: { trigger: string }) => e.trigger)).toEqual(['BOOKING_CREATED', 'MEETING_STARTED', 'MEETING_ENDED', 'BOOKING_NO_SHOW_UPDATED']);
  });

  it('when every booking trigger Cal.com sends arrives, then each is accepted', async () => {
    const triggers = ['BOOKING_CREATED', 'BOOKING_PAYMENT_INITIATED', 'BOOKING_PAID', 'BOOKING_RESCHEDULED', 'BOOKING_REQUESTED', 'BOOKING_CANCELLED', 'BOOKING_REJECTED'];
    for (const [i, trig] of triggers.entries()) expect((await send(bookingBody(trig, at(100 - i), { uid: 'all-1' }))).status).toBe(200);
    const others = ['FORM_SUBMITTED', 'RECORDING_READY', 'RECORDING_TRANSCRIPTION_GENERATED', 'OOO_CREATED', 'AFTER_HOSTS_CAL_VIDEO_NO_SHOW', 'AFTER_GUESTS_CAL_VIDEO_NO_SHOW', 'FORM_SUBMITTED_NO_EVENT', 'DELEGATION_CREDENTIAL_ERROR', 'WRONG_ASSIGNMENT_REPORT'];
    for (const trig of others) expect((await send(calcomBody(trig, at(5), { bookingUid: 'all-1', oooEntry: {} }))).status).toBe(200);
    expect((await getBooking('all-1')).body.status).toBe('rejected');
  });
});

describe('bookings admin API', () => {
  it('when bookings are listed with filters, then only matching ones come back', async () => {
    await send(bookingBody('BOOKING_CREATED', at(5), { uid: 'list-a', startTime: '2027-01-10T10:00:00Z', endTime: '2027-01-10T10:30:00Z', attendees: [{ name: 'Zed', email: 'Zed@Filter.test', timeZone: 'UTC' }] }));
    await send(bookingBody('BOOKING_CREATED', at(5), { uid: 'list-b', startTime: '2027-01-11T10:00:00Z', endTime: '2027-01-11T10:30:00Z' }));
    const byEmail = await request(t.app).get('/v1/admin/tenants/acme/bookings?email=zed@filter.test').set(asAdmin);
    expect(byEmail.body.data.map((b: { uid: string }) => b.uid)).toEqual(['list-a']);
    const byRange = await request(t.app).get('/v1/admin/tenants/acme/bookings?from=2027-01-11T00:00:00Z&to=2027-01-12T00:00:00Z').set(asAdmin);
    expect(byRange.body.data.map((b: { uid: string }) => b.uid)).toEqual(['list-b']);
    const cancelled = await request(t.app).get('/v1/admin/tenants/acme/bookings?status=cancelled&limit=200').set(asAdmin);
    expect(cancelled.body.data.length).toBeGreaterThan(0);
    expect(cancelled.body.data.every((b: { status: string }) => b.status === 'cancelled')).toBe(true);
    expect(Object.keys(byRange.body.data[0])).toEqual(
      expect.arrayContaining(['uid', 'status', 'startTime', 'endTime', 'eventTypeId', 'attendees', 'rescheduledFromUid', 'rescheduledToUid', 'updatedAt']),
    );
  });

  it('when a newer delivery changes a booking\'s attendees, then the email filter finds it by the new address and no longer by the old one', async () => {
    await send(bookingBody('BOOKING_REQUESTED', at(30), { uid: 'swap-1', attendees: [{ name: 'Old', email: 'old@swap.test', timeZone: 'UTC' }] }));
    const byEmail = async (email: string) =>
      (await request(t.app).get(`/v1/admin/tenants/acme/bookings?email=${encodeURIComponent(email)}`).set(asAdmin)).body.data.map((b: { uid: string }) => b.uid);
    expect(await byEmail('old@swap.test')).toEqual(['swap-1']);
    await send(bookingBody('BOOKING_CREATED', at(20), { uid: 'swap-1', attendees: [{ name: 'New', email: 'New@Swap.test', timeZone: 'UTC' }, { name: 'Guest', email: 'guest@swap.test', timeZone: 'UTC' }] }));
    expect({ old: await byEmail('old@swap.test'), renamed: await byEmail('new@swap.test'), guest: await byEmail('guest@swap.test') }).toEqual({ old: [], renamed: ['swap-1'], guest: ['swap-1'] });
  });

  it('when some bookings have no start time yet, then they are listed first and paging still returns every booking once', async () => {
    const tenant = await createTenant(t, 'no-start');
    // A start time is unknown until a delivery carries one; seeded directly, as no single Cal.com payload lacks it.
    await t.database.owner.query(
      `INSERT INTO bookings (tenant_id, uid, status, start_time, state_at, state_rank, state_event_id, created_at, updated_at)
       SELECT $1, u, 'accepted', s, now(), 1, gen_random_uuid(), now(), now()
         FROM (VALUES ('ns-b', NULL::timestamptz), ('ns-a', NULL), ('ns-d', '2027-02-01T10:00:00Z'), ('ns-c', '2027-02-01T10:00:00Z'), ('ns-e', '2027-01-01T10:00:00Z')) v(u, s)`,
      [tenant],
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.app).get(`/v1/admin/tenants/no-start/bookings?limit=1${cursor ? `&cursor=${cursor}` : ''}`).set(asAdmin);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((b: { uid: string }) => b.uid));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['ns-a', 'ns-b', 'ns-e', 'ns-c', 'ns-d']);
  });

  it('when bookings are paged, then every booking appears exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.app).get(`/v1/admin/tenants/acme/bookings?limit=2${cursor ? `&cursor=${cursor}` : ''}`).set(asAdmin);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((b: { uid: string }) => b.uid));
      cursor = res.body.nextCursor;
    } while (cursor);
    const total = (await t.database.owner.query<{ n: number }>("SELECT count(*)::int AS n FROM bookings b JOIN tenants t ON t.id = b.tenant_id WHERE t.slug = 'acme'")).rows[0]!.n;
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('when the limit is above 200 or the cursor is forged, then 400 invalid_request', async () => {
    expect((await request(t.app).get('/v1/admin/tenants/acme/bookings?limit=201').set(asAdmin)).body.code).toBe('invalid_request');
    expect((await request(t.app).get('/v1/admin/tenants/acme/bookings?cursor=bm9wZQ').set(asAdmin)).body.code).toBe('invalid_request');
  });

  it('when a booking uid is unknown, then 404 booking_not_found', async () => {
    const res = await getBooking('does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('booking_not_found');
  });

  it("when a tenant-scoped token reads bookings, then it sees its tenant's and is refused another's", async () => {
    await send(bookingBody('BOOKING_CREATED', at(5), { uid: 'other-1', metadata: {} }), 'other', 'whsec_bookings_other_00000000000000');
    const token = (await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'other' })).body.token;
    const auth = { Authorization: `Bearer ${token}` };
    const own = await request(t.app).get('/v1/admin/tenants/other/bookings').set(auth);
    expect(own.body.data.map((b: { uid: string }) => b.uid)).toEqual(['other-1']);
    const theirs = await request(t.app).get('/v1/admin/tenants/acme/bookings').set(auth);
    expect(theirs.status).toBe(403);
    expect(theirs.body.code).toBe('forbidden');
    expect((await request(t.app).get('/v1/admin/tenants/acme/bookings/late-1').set(auth)).status).toBe(403);
    // And through the other tenant's URL, acme's booking does not exist.
    expect((await request(t.app).get('/v1/admin/tenants/other/bookings/late-1').set(auth)).status).toBe(404);
  });
});
