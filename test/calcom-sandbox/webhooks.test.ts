import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { calWebhookSignature, SANDBOX_DEMO_API_KEY, startSandbox, type Sandbox } from './index.js';
import { callJson, startSubscriber, weekdayAtUtc, type Subscriber } from './test-support.js';

interface Vector {
  name: string;
  secret: string | null;
  body: string;
  expected: string;
}
const vectors = (JSON.parse(readFileSync(new URL('../fixtures/calcom/signature-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] })
  .vectors;

const BOOKINGS = { 'cal-api-version': '2024-08-13', authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` };
const AUTH = { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` };

let sandbox: Sandbox;
let subscriber: Subscriber;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, webhookRetryDelayMs: 50 });
  subscriber = await startSubscriber();
});
afterAll(async () => {
  await sandbox.close();
  await subscriber.close();
});
beforeEach(() => {
  sandbox.control.reset();
  sandbox.control.setRetryDelayMs(50);
  subscriber.received.length = 0;
  subscriber.respondWith([]);
});
afterEach(() => sandbox.control.resetFaults());

async function subscribe(secret: string | undefined, triggers = ['BOOKING_CREATED', 'BOOKING_CANCELLED', 'BOOKING_RESCHEDULED']): Promise<string> {
  const res = await callJson(`${sandbox.apiUrl}/webhooks`, {
    method: 'POST',
    headers: AUTH,
    body: { subscriberUrl: subscriber.url, triggers, active: true, ...(secret ? { secret } : {}) },
  });
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

let slotOffset = 0;
async function book(extra: Record<string, unknown> = {}): Promise<any> {
  slotOffset += 1;
  const start = weekdayAtUtc(new Date(), 3, 9 + (slotOffset % 6), slotOffset % 2 ? 30 : 0);
  const res = await callJson(`${sandbox.apiUrl}/bookings`, {
    method: 'POST',
    headers: BOOKINGS,
    body: {
      start: start.toISOString(),
      eventTypeSlug: 'intro-call',
      username: 'demo',
      attendee: { name: 'Jo Bloggs', email: 'jo@example.com', timeZone: 'Europe/Paris' },
      metadata: { tenant: 'acme' },
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

describe('Cal.com webhook signature', () => {
  it.each(vectors)('when signing the vector "$name", then the sandbox reproduces the expected value', (v) => {
    expect(calWebhookSignature(v.secret, v.body)).toBe(v.expected);
  });

  it('when a booking is created, then X-Cal-Signature-256 is the HMAC of the exact body received', async () => {
    const secret = vectors[0]!.secret!;
    await subscribe(secret);
    const booking = await book();
    const [hit] = await subscriber.waitFor(1);
    const expected = createHmac('sha256', secret).update(hit!.body).digest('hex');
    expect(hit!.headers['x-cal-signature-256']).toBe(expected);
    expect(hit!.headers['x-cal-webhook-version']).toBe('2021-10-20');
    expect(hit!.headers['content-type']).toBe('application/json');
    const parsed = JSON.parse(hit!.body);
    expect(Object.keys(parsed)).toEqual(['triggerEvent', 'createdAt', 'payload']);
    expect(parsed.triggerEvent).toBe('BOOKING_CREATED');
    expect(new Date(parsed.createdAt).toISOString()).toBe(parsed.createdAt);
    expect(parsed.payload).toMatchObject({
      type: 'intro-call',
      uid: booking.uid,
      bookingId: booking.id,
      eventTypeId: booking.eventTypeId,
      status: 'ACCEPTED',
      startTime: booking.start,
      endTime: booking.end,
      length: 30,
      organizer: { username: 'demo', timeZone: 'Europe/London', language: { locale: 'en' } },
      attendees: [{ name: 'Jo Bloggs', email: 'jo@example.com', timeZone: 'Europe/Paris', language: { locale: 'en' } }],
      responses: { name: { label: 'your_name', value: 'Jo Bloggs' }, email: { label: 'email_address', value: 'jo@example.com' } },
    });
    expect(parsed.payload.metadata.tenant).toBe('acme');
    expect(typeof parsed.payload.organizer.utcOffset).toBe('number');
  });

  it('when the webhook has no secret, then the header is the literal no-secret-provided', async () => {
    await subscribe(undefined);
    await book();
    const [hit] = await subscriber.waitFor(1);
    expect(hit!.headers['x-cal-signature-256']).toBe('no-secret-provided');
  });
});

describe('Cal.com webhook triggers', () => {
  it('when a booking is cancelled and another rescheduled, then BOOKING_CANCELLED and BOOKING_RESCHEDULED arrive with Cal.com fields', async () => {
    await subscribe('s3cret');
    const first = await book();
    const second = await book();
    await subscriber.waitFor(2);
    const cancel = await callJson(`${sandbox.apiUrl}/bookings/${first.uid}/cancel`, {
      method: 'POST',
      headers: BOOKINGS,
      body: { cancellationReason: 'Will travel' },
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body.data.status).toBe('cancelled');
    const newStart = weekdayAtUtc(new Date(), 5, 14);
    const resched = await callJson(`${sandbox.apiUrl}/bookings/${second.uid}/reschedule`, {
      method: 'POST',
      headers: BOOKINGS,
      body: { start: newStart.toISOString(), reschedulingReason: 'Clash' },
    });
    expect(resched.status, JSON.stringify(resched.body)).toBe(201);
    expect(resched.body.data.rescheduledFromUid).toBe(second.uid);
    const old = await callJson(`${sandbox.apiUrl}/bookings/${second.uid}`, { headers: BOOKINGS });
    expect(old.body.data).toMatchObject({ status: 'cancelled', rescheduledToUid: resched.body.data.uid });

    const hits = await subscriber.waitFor(4);
    const bodies = hits.map((h) => JSON.parse(h.body));
    const cancelled = bodies.find((b) => b.triggerEvent === 'BOOKING_CANCELLED');
    expect(cancelled.payload).toMatchObject({ uid: first.uid, status: 'CANCELLED', cancellationReason: 'Will travel' });
    const rescheduled = bodies.find((b) => b.triggerEvent === 'BOOKING_RESCHEDULED');
    expect(rescheduled.payload).toMatchObject({
      uid: resched.body.data.uid,
      rescheduleUid: second.uid,
      rescheduleId: second.id,
      rescheduleStartTime: second.start,
      startTime: newStart.toISOString(),
      status: 'ACCEPTED',
    });
  });

  it('when the host marks an attendee absent, then BOOKING_NO_SHOW_UPDATED carries bookingUid and attendees', async () => {
    await subscribe('s', ['BOOKING_NO_SHOW_UPDATED']);
    const booking = await book();
    sandbox.control.markNoShow(booking.uid, [{ email: 'jo@example.com', absent: true }]);
    const [hit] = await subscriber.waitFor(1);
    const parsed = JSON.parse(hit!.body);
    expect(parsed.triggerEvent).toBe('BOOKING_NO_SHOW_UPDATED');
    expect(parsed.payload).toMatchObject({ bookingUid: booking.uid, bookingId: booking.id, attendees: [{ email: 'jo@example.com', noShow: true }] });
    expect(typeof parsed.payload.message).toBe('string');
  });

  it('when an event type requires confirmation, then BOOKING_REQUESTED fires, and rejecting fires BOOKING_REJECTED', async () => {
    sandbox.control.seedEventType({ username: 'demo', slug: 'vetted', lengthInMinutes: 30, requiresConfirmation: true });
    await subscribe('s', ['BOOKING_REQUESTED', 'BOOKING_REJECTED', 'BOOKING_CREATED']);
    const booking = await book({ eventTypeSlug: 'vetted' });
    expect(booking.status).toBe('pending');
    sandbox.control.rejectBooking(booking.uid, 'Fully booked');
    const hits = await subscriber.waitFor(2);
    expect(hits.map((h) => JSON.parse(h.body).triggerEvent)).toEqual(['BOOKING_REQUESTED', 'BOOKING_REJECTED']);
    expect(JSON.parse(hits[0]!.body).payload.status).toBe('PENDING');
    expect(JSON.parse(hits[1]!.body).payload.status).toBe('REJECTED');
  });

  it('when a webhook is inactive or not subscribed to the trigger, then nothing is sent', async () => {
    const id = await subscribe('s', ['BOOKING_CANCELLED']);
    await book();
    const patched = await callJson(`${sandbox.apiUrl}/webhooks/${id}`, { method: 'PATCH', headers: AUTH, body: { active: false, triggers: ['BOOKING_CREATED'] } });
    expect(patched.body.data).toMatchObject({ active: false, triggers: ['BOOKING_CREATED'] });
    await book();
    await sandbox.control.flush();
    expect(sandbox.control.deliveries()).toHaveLength(0);
    expect(subscriber.received).toHaveLength(0);
  });
});

describe('Cal.com webhook delivery faults', () => {
  it('when deliverTwice is on, then the subscriber gets two identical requests', async () => {
    await subscribe('s');
    sandbox.control.setFaults({ deliverTwice: true });
    await book();
    const hits = await subscriber.waitFor(2);
    expect(hits[0]!.body).toBe(hits[1]!.body);
    expect(hits[0]!.headers['x-cal-signature-256']).toBe(hits[1]!.headers['x-cal-signature-256']);
    const records = await sandbox.control.waitForDeliveries(2);
    expect(records[1]!.duplicateOf).toBe(records[0]!.id);
  });

  it('when outOfOrder is on, then held deliveries arrive reversed after flush', async () => {
    await subscribe('s');
    sandbox.control.setFaults({ outOfOrder: true });
    const a = await book();
    const b = await book();
    const c = await book();
    expect(subscriber.received).toHaveLength(0);
    expect(sandbox.control.deliveries().map((d) => d.state)).toEqual(['held', 'held', 'held']);
    await sandbox.control.flush();
    const uids = subscriber.received.map((h) => JSON.parse(h.body).payload.uid);
    expect(uids).toEqual([c.uid, b.uid, a.uid]);
  });

  it('when drop is on, then deliveries are recorded as dropped and never sent', async () => {
    await subscribe('s');
    sandbox.control.setFaults({ drop: true });
    const booking = await book();
    const [record] = await sandbox.control.waitForDeliveries(1);
    expect(record).toMatchObject({ state: 'dropped', attempts: [] });
    expect(JSON.parse(record!.body).payload.uid).toBe(booking.uid);
    await sandbox.control.flush();
    expect(subscriber.received).toHaveLength(0);
  });

  it('when corruptSignature is on, then the header does not match the body', async () => {
    await subscribe('s');
    sandbox.control.setFaults({ corruptSignature: true });
    await book();
    const [hit] = await subscriber.waitFor(1);
    const sig = String(hit!.headers['x-cal-signature-256']);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(sig).not.toBe(calWebhookSignature('s', hit!.body));
  });

  it('when delayMs is set, then the first attempt waits that long', async () => {
    await subscribe('s');
    sandbox.control.setFaults({ delayMs: 300 });
    const t0 = Date.now();
    await book();
    await new Promise((r) => setTimeout(r, 100));
    expect(subscriber.received).toHaveLength(0);
    const [hit] = await subscriber.waitFor(1);
    expect(hit!.receivedAt - t0).toBeGreaterThanOrEqual(250);
  });

  it('when the subscriber answers 500, then Cal.com does not retry: the delivery is lost after one attempt (sendPayload.ts, tasker)', async () => {
    await subscribe('s');
    subscriber.respondWith([500, 503]);
    await book();
    const [record] = await sandbox.control.waitForDeliveries(1, 5_000);
    expect(record!.state).toBe('failed');
    expect(record!.attempts.map((a) => a.status)).toEqual([500]);
    await sandbox.control.flush();
    expect(subscriber.received).toHaveLength(1);
  });

  it('when the subscriber answers 400, then that delivery is never sent again either', async () => {
    await subscribe('s');
    subscriber.respondWith([400]);
    await book();
    const [record] = await sandbox.control.waitForDeliveries(1, 5_000);
    expect(record!.attempts.map((a) => a.status)).toEqual([400]);
    expect(record!.state).toBe('failed');
  });

  /** A webhook at a port nobody listens on: connection refused is a network error, the only kind the tasker retries. */
  async function subscribeDead(): Promise<void> {
    const res = await callJson(`${sandbox.apiUrl}/webhooks`, {
      method: 'POST',
      headers: AUTH,
      body: { subscriberUrl: 'http://127.0.0.1:9/hook', triggers: ['BOOKING_CREATED'], active: true, secret: 's' },
    });
    expect(res.status).toBe(201);
  }

  it('when the subscriber cannot be reached, then Cal.com retries, up to 3 attempts in all', async () => {
    await subscribeDead();
    await book();
    const [record] = await sandbox.control.waitForDeliveries(1, 5_000);
    expect(record!.state).toBe('failed');
    expect(record!.attempts).toHaveLength(3);
    expect(record!.attempts.every((a) => a.status === null && a.error)).toBe(true);
  });

  it("when the retry gap is Cal.com's default and the network failed, then flush runs the pending retries at once", async () => {
    sandbox.control.setRetryDelayMs(5 * 60 * 1000);
    await subscribeDead();
    await book();
    await expect.poll(() => sandbox.control.deliveries()[0]?.state).toBe('retrying');
    await sandbox.control.flush();
    expect(sandbox.control.deliveries()[0]!.attempts).toHaveLength(3);
    expect(sandbox.control.deliveries()[0]!.state).toBe('failed');
  });
});
