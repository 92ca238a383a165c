import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_API_KEY, startSandbox, type Sandbox } from './index.js';
import { callJson, startSubscriber, weekdayAtUtc, type Subscriber } from './test-support.js';

// Behaviours the sandbox reproduces from Cal.com's source, where Calbridge's own assumptions used to
// be mirrored instead. Each test names the Cal.com file it follows.

const AUTH = { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` };
const BOOKINGS = { ...AUTH, 'cal-api-version': '2024-08-13' };
const SECRET = 'whsec_behaviour';
const ALL = [
  'BOOKING_CREATED',
  'BOOKING_REQUESTED',
  'BOOKING_RESCHEDULED',
  'BOOKING_CANCELLED',
  'BOOKING_REJECTED',
  'BOOKING_PAYMENT_INITIATED',
  'BOOKING_PAID',
  'MEETING_STARTED',
  'MEETING_ENDED',
];

let sandbox: Sandbox;
let subscriber: Subscriber;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, webhookRetryDelayMs: 20 });
  subscriber = await startSubscriber();
});
afterAll(async () => {
  await sandbox.close();
  await subscriber.close();
});
beforeEach(async () => {
  // Let the previous test's deliveries land before forgetting them.
  await sandbox.control.flush();
  sandbox.control.reset();
  subscriber.received.length = 0;
  subscriber.respondWith([]);
});

async function subscribe(triggers = ALL): Promise<string> {
  const res = await callJson(`${sandbox.apiUrl}/webhooks`, {
    method: 'POST',
    headers: AUTH,
    body: { subscriberUrl: subscriber.url, triggers, active: true, secret: SECRET },
  });
  expect(res.status).toBe(201);
  return res.body.data.id;
}

let slot = 0;
async function book(slug = 'intro-call', metadata: Record<string, string> = { cb_receipt: 'r-1', utm_source: 'news' }): Promise<any> {
  slot += 1;
  const start = weekdayAtUtc(new Date(), 3 + (slot % 5), 9 + (slot % 6), slot % 2 ? 30 : 0);
  const res = await callJson(`${sandbox.apiUrl}/bookings`, {
    method: 'POST',
    headers: BOOKINGS,
    body: { start: start.toISOString(), eventTypeSlug: slug, username: 'demo', attendee: { name: 'Jo', email: 'jo@example.com', timeZone: 'Europe/Paris' }, metadata },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

/** Deliveries received so far, parsed, with their trigger. */
async function received(n: number): Promise<Array<{ body: any; headers: Record<string, unknown>; raw: string }>> {
  await subscriber.waitFor(n);
  return subscriber.received.map((r) => ({ body: JSON.parse(r.body), headers: r.headers, raw: r.body }));
}

describe('webhook subscriptions (user-webhooks.service.ts, schema.prisma)', () => {
  it('when a webhook is created, then its id is a UUID string, and it can be read, patched and deleted by that id', async () => {
    const id = await subscribe();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const listed = await callJson(`${sandbox.apiUrl}/webhooks`, { headers: AUTH });
    expect(listed.body.data.map((w: { id: unknown }) => w.id)).toEqual([id]);
    const patched = await callJson(`${sandbox.apiUrl}/webhooks/${id}`, { method: 'PATCH', headers: AUTH, body: { secret: 'rotated' } });
    expect(patched.status).toBe(200);
    expect(patched.body.data.id).toBe(id);
    expect((await callJson(`${sandbox.apiUrl}/webhooks/${id}`, { method: 'DELETE', headers: AUTH })).status).toBe(200);
  });

  it('when a second webhook with the same subscriber URL is created, then Cal.com answers 409 ConflictException', async () => {
    await subscribe();
    const again = await callJson(`${sandbox.apiUrl}/webhooks`, {
      method: 'POST',
      headers: AUTH,
      body: { subscriberUrl: subscriber.url, triggers: ['BOOKING_CREATED'], active: true },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      status: 'error',
      error: { code: 'ConflictException', message: 'Webhook with this subscriber url already exists for this user' },
    });
  });
});

describe('meeting triggers (scheduleTrigger.ts, handleWebhookScheduledTriggers.ts)', () => {
  it('when a booking starts and ends on the sandbox clock, then MEETING_STARTED and MEETING_ENDED arrive flat, createdAt = the booking creation time', async () => {
    await subscribe();
    const booking = await book();
    await received(1); // BOOKING_CREATED
    expect(sandbox.control.scheduledTriggers().map((t) => t.triggerEvent).sort()).toEqual(['MEETING_ENDED', 'MEETING_STARTED']);
    const untilStart = Date.parse(booking.start) - Date.now() + 1000;
    expect(sandbox.control.advanceTime(untilStart)).toBe(1);
    expect(sandbox.control.advanceTime(30 * 60_000)).toBe(1);
    const all = await received(3);
    const [started, ended] = [all[1]!, all[2]!];
    for (const d of [started, ended]) {
      expect(d.body).not.toHaveProperty('payload');
      expect(d.body).toMatchObject({ uid: booking.uid, id: booking.id, status: 'ACCEPTED', startTime: booking.start, endTime: booking.end });
      expect(d.body.createdAt).toBe(booking.createdAt);
      expect(d.body.metadata).toEqual({ cb_receipt: 'r-1', utm_source: 'news' });
      expect(d.headers['x-cal-signature-256']).toBe(createHmac('sha256', SECRET).update(d.raw).digest('hex'));
      expect(d.headers['x-cal-webhook-version']).toBeUndefined();
    }
    expect(started.body.triggerEvent).toBe('MEETING_STARTED');
    expect(ended.body.triggerEvent).toBe('MEETING_ENDED');
    expect(Object.keys(started.body)[0]).toBe('triggerEvent');
  });

  it('when a booking is cancelled before it starts, then no meeting trigger is sent for it', async () => {
    await subscribe();
    const booking = await book();
    await callJson(`${sandbox.apiUrl}/bookings/${booking.uid}/cancel`, { method: 'POST', headers: BOOKINGS, body: { cancellationReason: 'x' } });
    expect(sandbox.control.scheduledTriggers()).toEqual([]);
    expect(sandbox.control.advanceTime(40 * 24 * 3600_000)).toBe(0);
  });

  it('when the subscriber answers 500 to a meeting trigger, then it is not sent again', async () => {
    await subscribe(['MEETING_STARTED']);
    const booking = await book();
    subscriber.respondWith([500]);
    sandbox.control.advanceTime(Date.parse(booking.start) - Date.now() + 1000);
    await sandbox.control.flush();
    expect(subscriber.received.filter((r) => JSON.parse(r.body).triggerEvent === 'MEETING_STARTED')).toHaveLength(1);
    expect(sandbox.control.deliveries().at(-1)).toMatchObject({ triggerEvent: 'MEETING_STARTED', state: 'failed', scheduled: true });
  });
});

describe('partial metadata and odd fields in deliveries', () => {
  it('when the host confirms a requested booking, then BOOKING_CREATED carries only { videoCallUrl } as metadata (handleConfirmation.ts)', async () => {
    sandbox.control.seedEventType({ username: 'demo', slug: 'needs-ok', requiresConfirmation: true });
    await subscribe();
    const booking = await book('needs-ok');
    sandbox.control.confirmBooking(booking.uid);
    const [requested, created] = await received(2);
    expect(requested!.body.triggerEvent).toBe('BOOKING_REQUESTED');
    expect(requested!.body.payload.metadata).toMatchObject({ cb_receipt: 'r-1' });
    expect(created!.body.triggerEvent).toBe('BOOKING_CREATED');
    expect(created!.body.payload.metadata).toEqual({ videoCallUrl: expect.stringContaining('/video/') });
  });

  it('when the host rejects, then BOOKING_REJECTED carries rejectionReason and no cancellationReason (confirm.handler.ts)', async () => {
    sandbox.control.seedEventType({ username: 'demo', slug: 'needs-ok', requiresConfirmation: true });
    await subscribe();
    const booking = await book('needs-ok');
    sandbox.control.rejectBooking(booking.uid, 'Fully booked that week');
    const [, rejected] = await received(2);
    expect(rejected!.body.triggerEvent).toBe('BOOKING_REJECTED');
    expect(rejected!.body.payload.rejectionReason).toBe('Fully booked that week');
    expect(rejected!.body.payload).not.toHaveProperty('cancellationReason');
    expect(rejected!.body.payload.status).toBe('REJECTED');
  });

  it('when a paid event is booked, then BOOKING_PAYMENT_INITIATED says ACCEPTED, and BOOKING_PAID carries payment metadata only (RegularBookingService.ts, handlePaymentSuccess.ts)', async () => {
    sandbox.control.seedEventType({ username: 'demo', slug: 'paid-call', price: 5000 });
    await subscribe();
    const booking = await book('paid-call');
    sandbox.control.payBooking(booking.uid);
    const [initiated, paid] = await received(2);
    expect(initiated!.body.triggerEvent).toBe('BOOKING_PAYMENT_INITIATED');
    expect(initiated!.body.payload.status).toBe('ACCEPTED');
    expect(paid!.body.triggerEvent).toBe('BOOKING_PAID');
    expect(paid!.body.payload.metadata).not.toHaveProperty('cb_receipt');
    expect(paid!.body.payload.metadata).not.toHaveProperty('utm_source');
    expect(subscriber.received.map((r) => JSON.parse(r.body).triggerEvent)).not.toContain('BOOKING_CREATED');
  });

  it('when a visitor reschedules on the booking page, then BOOKING_RESCHEDULED carries { videoCallUrl, ...query metadata } only (RegularBookingService.ts)', async () => {
    await subscribe();
    const booking = await book();
    const start = weekdayAtUtc(new Date(), 12, 14);
    const res = await callJson(`${sandbox.appUrl}/api/book/event`, {
      method: 'POST',
      body: { eventTypeId: booking.eventTypeId, start: start.toISOString(), timeZone: 'Europe/Paris', responses: { name: 'Jo', email: 'jo@example.com' }, metadata: { from_link: 'yes' }, rescheduleUid: booking.uid },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [, moved] = await received(2);
    expect(moved!.body.triggerEvent).toBe('BOOKING_RESCHEDULED');
    expect(moved!.body.payload.rescheduleUid).toBe(booking.uid);
    expect(moved!.body.payload.metadata).toEqual({ videoCallUrl: expect.any(String), from_link: 'yes' });
  });

  it('when a reschedule needs confirmation, then the original is cancelled at once and only BOOKING_REQUESTED for the new uid is sent, without rescheduleUid (createBooking.ts, BookingPayloadBuilder.ts)', async () => {
    sandbox.control.seedEventType({ username: 'demo', slug: 'needs-ok', requiresConfirmation: true });
    await subscribe();
    const booking = await book('needs-ok');
    sandbox.control.confirmBooking(booking.uid);
    await received(2);
    const start = weekdayAtUtc(new Date(), 12, 15);
    const res = await callJson(`${sandbox.apiUrl}/bookings/${booking.uid}/reschedule`, { method: 'POST', headers: BOOKINGS, body: { start: start.toISOString() } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const all = await received(3);
    await sandbox.control.flush();
    expect(subscriber.received).toHaveLength(3);
    const requested = all[2]!.body;
    expect(requested.triggerEvent).toBe('BOOKING_REQUESTED');
    expect(requested.payload.uid).not.toBe(booking.uid);
    expect(requested.payload).not.toHaveProperty('rescheduleUid');
    const original = sandbox.control.bookings().find((b) => b.uid === booking.uid)!;
    expect(original['status']).toBe('cancelled');
  });
});

describe('booking outputs as Cal.com really returns them (output.service.ts)', () => {
  it('when bookings are loosened, then GET /v2/bookings and /v2/bookings/{uid} return null eventTypeId/eventType, null host name, host "unknown", awaiting_host, null updatedAt and "" cancellationReason', async () => {
    const a = await book();
    const b = await book();
    sandbox.control.loosenBooking(a.uid, { eventTypeDeleted: true, hostNameNull: true, updatedAtNull: true, status: 'awaiting_host' });
    sandbox.control.loosenBooking(b.uid, { noUser: true, cancellationReasonEmpty: true });
    const list = await callJson(`${sandbox.apiUrl}/bookings`, { headers: BOOKINGS });
    const byUid = new Map(list.body.data.map((x: { uid: string }) => [x.uid, x]));
    expect(byUid.get(a.uid)).toMatchObject({ eventTypeId: null, eventType: null, status: 'awaiting_host', updatedAt: null, hosts: [{ name: null }] });
    expect(byUid.get(b.uid)).toMatchObject({ cancellationReason: '', hosts: [{ id: 'unknown' }] });
    const one = await callJson(`${sandbox.apiUrl}/bookings/${a.uid}`, { headers: BOOKINGS });
    expect(one.body.data).toMatchObject({ eventTypeId: null, status: 'awaiting_host' });
  });
});

describe('booking input validation (create-booking.input.ts)', () => {
  it('when attendee.language is not in BookingLanguage, then POST /v2/bookings answers 400 and books nothing', async () => {
    const start = weekdayAtUtc(new Date(), 9, 10);
    const res = await callJson(`${sandbox.apiUrl}/bookings`, {
      method: 'POST',
      headers: BOOKINGS,
      body: { start: start.toISOString(), eventTypeSlug: 'intro-call', username: 'demo', attendee: { name: 'Jo', email: 'jo@example.com', timeZone: 'UTC', language: 'en-GB' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('attendee.language must be one of the following values');
    expect(sandbox.control.bookings()).toHaveLength(0);
  });
});

describe('rate limits (throttler-guard.ts)', () => {
  it('when the limit is used up, then 429 carries X-RateLimit-*-Default headers (reset in seconds) and no Retry-After', async () => {
    sandbox.control.setRateLimit(2);
    const first = await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-default')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-default')).toBe('1');
    await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH });
    const limited = await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(limited.headers.get('x-ratelimit-remaining-default')).toBe('0');
    const reset = Number(limited.headers.get('x-ratelimit-reset-default'));
    expect(reset).toBeGreaterThanOrEqual(1);
    expect(reset).toBeLessThanOrEqual(60);
    expect(limited.body).toMatchObject({ status: 'error', error: { code: 'ThrottlerException' } });
    sandbox.control.advanceTime(61_000);
    expect((await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH })).status).toBe(200);
  });

  it('when a token goes past the limit, then it stays blocked for the block duration from that hit, and a call while blocked counts in the next window', async () => {
    sandbox.control.setRateLimit(1, { windowMs: 60_000, blockMs: 60_000 });
    expect((await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH })).status).toBe(200);
    sandbox.control.advanceTime(50_000);
    const limited = await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-reset-default')).toBe('60');
    // The window of the first hit is over, the block is not; this call starts a new window and counts.
    sandbox.control.advanceTime(20_000);
    const still = await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH });
    expect(still.status).toBe(429);
    expect(still.headers.get('x-ratelimit-remaining-default')).toBe('0');
    expect(still.headers.get('x-ratelimit-reset-default')).toBe('40');
    // Past the block, the early call above already used that window: blocked again.
    sandbox.control.advanceTime(41_000);
    expect((await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH })).status).toBe(429);
    sandbox.control.advanceTime(61_000);
    const after = await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH });
    expect(after.status).toBe(200);
    expect(after.headers.get('x-ratelimit-remaining-default')).toBe('0');
  });

  it("when Cal.com's defaults are on, then an API key gets 120 a window and an access token or OAuth client 500, each its own count", async () => {
    sandbox.control.setRateLimit('calcom');
    const key = await callJson(`${sandbox.apiUrl}/me`, { headers: AUTH });
    expect(key.headers.get('x-ratelimit-limit-default')).toBe('120');
    expect(key.headers.get('x-ratelimit-remaining-default')).toBe('119');
    const token = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: 'Bearer not-an-api-key' } });
    expect(token.headers.get('x-ratelimit-limit-default')).toBe('500');
    expect(token.headers.get('x-ratelimit-remaining-default')).toBe('499');
    const client = await callJson(`${sandbox.apiUrl}/me`, { headers: { 'x-cal-client-id': 'some-client' } });
    expect(client.headers.get('x-ratelimit-limit-default')).toBe('500');
  });

  it("when OAuth token requests of different clients come from one address, then they share the address's count of 120 (no token, no client id header)", async () => {
    sandbox.control.setRateLimit('calcom');
    const token = (clientId: string, headers: Record<string, string> = {}) =>
      callJson(`${sandbox.apiUrl}/auth/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: { grant_type: 'refresh_token', client_id: clientId, client_secret: 'x', refresh_token: 'not-a-token' },
      });
    // The guard counts before the endpoint answers: refused refreshes count too.
    const first = await token('client-a');
    expect(first.status).toBe(401);
    expect(first.headers.get('x-ratelimit-limit-default')).toBe('120');
    expect(first.headers.get('x-ratelimit-remaining-default')).toBe('119');
    const other = await token('client-b');
    expect(other.headers.get('x-ratelimit-remaining-default')).toBe('118');
    // Another egress address (Cloudflare's cf-connecting-ip) has its own count.
    const elsewhere = await token('client-a', { 'cf-connecting-ip': '203.0.113.7' });
    expect(elsewhere.headers.get('x-ratelimit-remaining-default')).toBe('119');
  });

  it('when the address has used its limit on token requests, then the next one is refused with 429 for the block, whichever client asks', async () => {
    sandbox.control.setRateLimit({ apiKey: 120, accessToken: 500, oauthClient: 500, other: 2 });
    const token = (clientId: string) =>
      callJson(`${sandbox.apiUrl}/auth/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: { grant_type: 'refresh_token', client_id: clientId, client_secret: 'x', refresh_token: 'not-a-token' },
      });
    await token('client-a');
    await token('client-b');
    const limited = await token('client-c');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-remaining-default')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset-default')).toBe('60');
    sandbox.control.advanceTime(61_000);
    expect((await token('client-a')).status).toBe(401);
  });

  it("when managed users' refreshes go through one platform client, then they share the client's count of 500 whatever the user", async () => {
    sandbox.control.setRateLimit('calcom');
    const refresh = (refreshToken: string) =>
      callJson(`${sandbox.apiUrl}/oauth/platform-client/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cal-client-id': 'platform-client', 'x-cal-secret-key': 'wrong' },
        body: { refreshToken },
      });
    const first = await refresh('user-1-token');
    expect(first.headers.get('x-ratelimit-limit-default')).toBe('500');
    expect(first.headers.get('x-ratelimit-remaining-default')).toBe('499');
    expect((await refresh('user-2-token')).headers.get('x-ratelimit-remaining-default')).toBe('498');
  });
});
