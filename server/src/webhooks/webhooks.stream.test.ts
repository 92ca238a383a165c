import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/app.js';
import { signCalcomBody } from './webhooks.signature.js';
import { bookingBody, createTenant, setWebhookSecret } from './webhooks.test-support.js';

const SECRET = 'whsec_stream_tenant_0000000000000000';
let t: TestApp;
let server: Server;
let base: string;

beforeAll(async () => {
  t = await createTestApp();
  await setWebhookSecret(t, await createTenant(t, 'stream'), SECRET);
  server = createServer(t.app);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  await t.close();
});

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

interface Delivery {
  body: string;
  signature: string;
  broken: boolean;
}

const LIFECYCLES: [string, string][][] = [
  [['BOOKING_CREATED', 'accepted']],
  [['BOOKING_CREATED', 'accepted'], ['BOOKING_CANCELLED', 'cancelled']],
  [['BOOKING_REQUESTED', 'pending'], ['BOOKING_REJECTED', 'rejected']],
  [['BOOKING_REQUESTED', 'pending'], ['BOOKING_CREATED', 'accepted'], ['BOOKING_CANCELLED', 'cancelled']],
  [['BOOKING_PAYMENT_INITIATED', 'pending'], ['BOOKING_PAID', 'accepted']],
];

describe('a shuffled stream of deliveries', () => {
  it('when 2000 deliveries arrive shuffled, a third repeated and some forged, then each uid has one booking in the state of its newest event and no forged one left a trace', async () => {
    const r = rng(7);
    const now = t.clock.now().getTime();
    const expected = new Map<string, string>();
    const valid: Delivery[] = [];
    for (let i = 0; valid.length < 1200; i++) {
      const uid = `stream-${i}`;
      const life = LIFECYCLES[Math.floor(r() * LIFECYCLES.length)]!;
      let when = now - 3_600_000 + Math.floor(r() * 1_000_000);
      for (const [trigger, status] of life) {
        when += 1 + Math.floor(r() * 60_000);
        const body = bookingBody(trigger, new Date(when), { uid, status: status.toUpperCase(), metadata: { calbridge_tenant: 'stream' } });
        valid.push({ body, signature: signCalcomBody(body, SECRET), broken: false });
      }
      expected.set(uid, life.at(-1)![1]);
    }
    const repeats = valid.filter((_, i) => i % 3 === 0);
    const forged: Delivery[] = [];
    for (let i = 0; forged.length < 2000 - valid.length - repeats.length; i++) {
      // Half are new uids that must never appear; half try to cancel real bookings in the future.
      const uid = i % 2 === 0 ? `forged-${i}` : `stream-${i}`;
      const body = bookingBody('BOOKING_CANCELLED', new Date(now - 1000), { uid, metadata: {} });
      const signature = i % 3 === 0 ? signCalcomBody(body, 'whsec_an_attackers_guess_000000000') : signCalcomBody(body + ' ', SECRET);
      forged.push({ body, signature, broken: true });
    }
    const all = [...valid, ...repeats, ...forged];
    expect(all).toHaveLength(2000);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }

    const answers: { d: Delivery; status: number; duplicate?: boolean }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < all.length) {
          const d = all[next++]!;
          const res = await fetch(`${base}/v1/webhooks/calcom/stream`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-cal-signature-256': d.signature },
            body: d.body,
          });
          const json = (await res.json()) as { duplicate?: boolean };
          answers.push({ d, status: res.status, duplicate: json.duplicate });
        }
      }),
    );

    for (const a of answers) expect(a.status).toBe(a.d.broken ? 401 : 200);
    expect(answers.filter((a) => !a.d.broken && a.duplicate === false)).toHaveLength(valid.length);
    expect(answers.filter((a) => a.duplicate === true)).toHaveLength(repeats.length);

    const { rows } = await t.database.owner.query<{ uid: string; status: string }>("SELECT uid, status FROM bookings WHERE uid LIKE 'stream-%' OR uid LIKE 'forged-%'");
    expect(rows).toHaveLength(expected.size);
    expect(Object.fromEntries(rows.map((b) => [b.uid, b.status]))).toEqual(Object.fromEntries(expected));
    const inbox = await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_inbox');
    expect(inbox.rows[0]!.n).toBe(valid.length);
    const events = await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM booking_events');
    expect(events.rows[0]!.n).toBe(valid.length);
  }, 120_000);
});
