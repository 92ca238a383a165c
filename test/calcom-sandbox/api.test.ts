import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_API_KEY, startSandbox, type Sandbox } from './index.js';
import { callJson } from './test-support.js';

// Monday 2 March 2026, 08:00 UTC (GMT in London): a fixed clock makes slot lists exact.
let now = new Date('2026-03-02T08:00:00.000Z');
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, clock: () => now });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  now = new Date('2026-03-02T08:00:00.000Z');
  sandbox.control.reset();
});

const AUTH = { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` };
const BOOKINGS = { ...AUTH, 'cal-api-version': '2024-08-13' };
const SLOTS = { 'cal-api-version': '2024-09-04' };

const slots = (query: string): Promise<any> => callJson(`${sandbox.apiUrl}/slots?eventTypeSlug=intro-call&username=demo&${query}`, { headers: SLOTS });
const book = (start: string, extra: Record<string, unknown> = {}): Promise<any> =>
  callJson(`${sandbox.apiUrl}/bookings`, {
    method: 'POST',
    headers: BOOKINGS,
    body: { start, eventTypeSlug: 'intro-call', username: 'demo', attendee: { name: 'Jo', email: 'jo@example.com', timeZone: 'Europe/London' }, ...extra },
  });

describe('GET /v2/slots', () => {
  it('when asking for a weekday, then it lists 09:00–16:30 London every 30 minutes after the 2-hour notice', async () => {
    const res = await slots('start=2026-03-03&end=2026-03-03');
    expect(res.status).toBe(200);
    const day = res.body.data['2026-03-03'];
    expect(day).toHaveLength(16);
    expect(day[0]).toEqual({ start: '2026-03-03T09:00:00.000Z' });
    expect(day.at(-1)).toEqual({ start: '2026-03-03T16:30:00.000Z' });
    // Today (Monday 08:00 UTC) the notice removes nothing before 10:00.
    const today = await slots('start=2026-03-02&end=2026-03-02');
    expect(today.body.data['2026-03-02'][0].start).toBe('2026-03-02T10:00:00.000Z');
  });

  it('when the range covers a weekend, then Saturday and Sunday have no slots', async () => {
    const res = await slots('start=2026-03-07&end=2026-03-08');
    expect(res.body).toEqual({ status: 'success', data: {} });
  });

  it('when timeZone and format=range are given, then times carry the zone offset and an end', async () => {
    // After the UK switches to BST (29 March 2026): 09:00 London = 08:00Z = 10:00 in Rome.
    const res = await slots('start=2026-03-31&end=2026-03-31&timeZone=Europe/Rome&format=range');
    expect(res.body.data['2026-03-31'][0]).toEqual({ start: '2026-03-31T10:00:00.000+02:00', end: '2026-03-31T10:30:00.000+02:00' });
  });

  it('when a slot is booked, then it disappears, and reappears for bookingUidToReschedule', async () => {
    const created = await book('2026-03-03T10:00:00.000Z');
    expect(created.status).toBe(201);
    const after = await slots('start=2026-03-03&end=2026-03-03');
    expect(after.body.data['2026-03-03'].map((s: any) => s.start)).not.toContain('2026-03-03T10:00:00.000Z');
    const resched = await slots(`start=2026-03-03&end=2026-03-03&bookingUidToReschedule=${created.body.data.uid}`);
    expect(resched.body.data['2026-03-03'].map((s: any) => s.start)).toContain('2026-03-03T10:00:00.000Z');
  });

  it('when cal-api-version is missing, then it refuses instead of answering an older version', async () => {
    const res = await callJson(`${sandbox.apiUrl}/slots?eventTypeSlug=intro-call&username=demo&start=2026-03-03&end=2026-03-03`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BadRequestException');
  });
});

describe('bookings', () => {
  it('when the time is taken or outside hours, then booking fails with 400', async () => {
    expect((await book('2026-03-03T10:00:00.000Z')).status).toBe(201);
    const taken = await book('2026-03-03T10:00:00.000Z');
    expect(taken.status).toBe(400);
    expect(taken.body.error.message).toBe('User either already has booking at this time or is not available');
    expect((await book('2026-03-03T18:00:00.000Z')).status).toBe(400);
    expect((await book('2026-03-07T10:00:00.000Z')).status).toBe(400);
  });

  it('when metadata breaks Cal.com limits, then booking fails with 400', async () => {
    expect((await book('2026-03-03T11:00:00.000Z', { metadata: { ['k'.repeat(41)]: 'v' } })).status).toBe(400);
    expect((await book('2026-03-03T11:00:00.000Z', { metadata: { k: 'v'.repeat(501) } })).status).toBe(400);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect((await book('2026-03-03T11:00:00.000Z', { metadata: many })).status).toBe(400);
    const ok = await book('2026-03-03T11:00:00.000Z', { metadata: { tenant: 'acme', n: 1, flag: true } });
    expect(ok.body.data.metadata).toEqual({ tenant: 'acme', n: 1, flag: true });
  });

  it('when listing with filters and paging, then results and pagination follow the query', async () => {
    for (const h of ["09", "10", "11"]) expect((await book(`2026-03-03T${h}:00:00.000Z`)).status).toBe(201);
    const first = await book('2026-03-04T09:00:00.000Z', { attendee: { name: 'Ann', email: 'ann@example.com', timeZone: 'UTC' } });
    await callJson(`${sandbox.apiUrl}/bookings/${first.body.data.uid}/cancel`, { method: 'POST', headers: BOOKINGS, body: {} });
    const page = await callJson(`${sandbox.apiUrl}/bookings?status=upcoming&take=2&skip=0&sortStart=desc`, { headers: BOOKINGS });
    expect(page.body.data.map((b: any) => b.start)).toEqual(['2026-03-03T11:00:00.000Z', '2026-03-03T10:00:00.000Z']);
    expect(page.body.pagination).toMatchObject({ totalItems: 3, returnedItems: 2, remainingItems: 1, hasNextPage: true, totalPages: 2, currentPage: 1 });
    const cancelled = await callJson(`${sandbox.apiUrl}/bookings?status=cancelled&attendeeEmail=ann@example.com`, { headers: BOOKINGS });
    expect(cancelled.body.data).toHaveLength(1);
    now = new Date('2026-03-03T12:00:00.000Z');
    const past = await callJson(`${sandbox.apiUrl}/bookings?status=past`, { headers: BOOKINGS });
    expect(past.body.data).toHaveLength(3);
  });

  it("when another user's token reads a booking, then it is forbidden", async () => {
    const created = await book('2026-03-03T10:00:00.000Z');
    sandbox.control.seedUser({ username: 'other', apiKey: 'cal_test_other' });
    const res = await callJson(`${sandbox.apiUrl}/bookings/${created.body.data.uid}`, { headers: { 'cal-api-version': '2024-08-13', authorization: 'Bearer cal_test_other' } });
    expect(res.status).toBe(403);
  });
});

describe('control API over HTTP', () => {
  it('when seeding a user and event type over /__sandbox, then the new Cal link serves a booking page and slots', async () => {
    const user = await callJson(`${sandbox.url}/__sandbox/users`, { method: 'POST', body: { username: 'coach', timeZone: 'America/New_York', apiKey: 'cal_test_coach' } });
    expect(user.status).toBe(201);
    const et = await callJson(`${sandbox.url}/__sandbox/event-types`, { method: 'POST', body: { username: 'coach', slug: 'session', lengthInMinutes: 60, minimumBookingNoticeMinutes: 0 } });
    expect(et.status).toBe(201);
    const page = await fetch(`${sandbox.url}/coach/session`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html lang="en">');
    const res = await callJson(`${sandbox.apiUrl}/slots?eventTypeSlug=session&username=coach&start=2026-03-03&end=2026-03-03`, { headers: SLOTS });
    // 09:00–17:00 New York (EST, UTC−5) in 60-minute slots.
    expect(res.body.data['2026-03-03'].map((s: any) => s.start)).toEqual(
      ['14', '15', '16', '17', '18', '19', '20', '21'].map((h) => `2026-03-03T${h}:00:00.000Z`),
    );
    const faults = await callJson(`${sandbox.url}/__sandbox/faults`, { method: 'PUT', body: { drop: true } });
    expect(faults.body.drop).toBe(true);
    await callJson(`${sandbox.url}/__sandbox/reset`, { method: 'POST' });
    expect((await callJson(`${sandbox.url}/__sandbox/faults`)).body.drop).toBe(false);
    expect((await fetch(`${sandbox.url}/coach/session`)).status).toBe(404);
  });

  it('when a booking is made through the page without JavaScript, then it redirects to the confirmation and stores metadata and UTM', async () => {
    const form = new URLSearchParams({
      eventTypeId: '1',
      start: '2026-03-03T13:00:00.000Z',
      timeZone: 'Europe/London',
      name: 'Ada',
      email: 'ada@example.com',
      'metadata[tenant]': 'acme',
      utm_campaign: 'spring',
    });
    const res = await fetch(`${sandbox.url}/api/book/event`, { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/booking\/\w{22}$/);
    const [booking] = (await callJson(`${sandbox.url}/__sandbox/bookings`)).body;
    expect(booking).toMatchObject({ metadata: { tenant: 'acme' }, tracking: { utm_campaign: 'spring' }, attendees: [{ name: 'Ada' }] });
    expect((await fetch(`${sandbox.url}${location}`)).status).toBe(200);
  });
});
