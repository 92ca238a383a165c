import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEMO_EVENT_SLUG } from '../../../test/calcom-sandbox/index.js';
import { weekdayAtUtc } from '../../../test/calcom-sandbox/test-support.js';
import { asAdmin } from '../test-support/app.js';
import { connectWithOAuth, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';

// Issue 13, finding 3: one session or one address cannot fill a calendar through native
// booking, and one booking cannot invite a crowd. Against the Cal.com sandbox, behind a proxy so
// client addresses can be driven with X-Forwarded-For.

interface CapVector {
  class: string;
  description: string;
  guests: number;
  prior: { sameSession?: number; sameAddress?: number };
  expected: { status: number; code?: string };
}
const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/native-caps-vectors.json', import.meta.url), 'utf8')) as { vectors: CapVector[] };

const SHOP = 'https://shop.test';
let database: TestDatabase;
let h: CalcomHarness;
const app = () => h.instances[0]!.app;

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database, { CALBRIDGE_TRUST_PROXY: 'true' });
  expect((await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'shop', name: 'Shop', allowedOrigins: [SHOP], calLink: 'demo/intro-call' })).status).toBe(201);
  expect((await connectWithOAuth(h, app(), 'shop')).callback.status).toBe(200);
});
afterAll(async () => {
  await h.close();
  await database.drop();
});

let address = 0;

describe('native booking caps (finding 3)', () => {
  it.each(vectors.map((v) => [`${v.class}: ${v.description}`, v] as const))('when %s, then it is answered by its cap', async (_n, v) => {
    const ip = `198.51.100.${++address}`;
    const mint = async () => {
      const config = await request(app()).get('/v1/widget/shop/config').set('Origin', SHOP);
      const res = await request(app())
        .post('/v1/widget/shop/sessions')
        .set('Origin', SHOP)
        .set('X-Forwarded-For', ip)
        .send({ consent: { version: config.body.consent.version, purposes: ['booking'] }, context: { pageUrl: `${SHOP}/book`, referrer: '', utm: {} } });
      expect(res.status).toBe(201);
      return `Bearer ${res.body.token}`;
    };
    // The first slot still free in the coming week (each booking takes one).
    const free = async (auth: string) => {
      const start = weekdayAtUtc(new Date(), 6, 0).toISOString();
      const end = new Date(new Date(start).getTime() + 7 * 24 * 3600_000 - 1).toISOString();
      const slots = await request(app()).get('/v1/widget/shop/slots').set('Origin', SHOP).set('Authorization', auth).query({ eventType: SANDBOX_DEMO_EVENT_SLUG, start, end, timeZone: 'UTC' });
      expect(slots.status).toBe(200);
      return (slots.body.days as { slots: { start: string }[] }[]).flatMap((d) => d.slots)[0]!.start;
    };
    const book = (auth: string, start: string, guests = 0) =>
      request(app())
        .post('/v1/widget/shop/bookings')
        .set('Origin', SHOP)
        .set('Authorization', auth)
        .set('X-Forwarded-For', ip)
        .set('Idempotency-Key', `cap-${randomUUID()}`)
        .send({
          eventType: SANDBOX_DEMO_EVENT_SLUG,
          start,
          attendee: { name: 'Cap', email: 'cap@example.com', timeZone: 'UTC' },
          ...(guests ? { guests: Array.from({ length: guests }, (_, i) => `guest${i}@example.com`) } : {}),
        });

    const auth = await mint();
    for (let i = 0; i < (v.prior.sameSession ?? 0); i++) expect((await book(auth, await free(auth))).status).toBe(201);
    if (v.prior.sameAddress) {
      // Attempts on a slot already taken fail at Cal.com, yet count against the address.
      const taken = await free(auth);
      expect((await book(await mint(), taken)).status).toBe(201);
      for (let i = 1; i < v.prior.sameAddress; i++) expect((await book(await mint(), taken)).status).toBe(422);
    }

    const before = h.sandbox.control.bookings().length;
    const res = await book(v.prior.sameAddress ? await mint() : auth, await free(auth), v.guests);
    expect(res.status).toBe(v.expected.status);
    if (v.expected.code) {
      expect(res.body.code).toBe(v.expected.code);
      expect(h.sandbox.control.bookings().length).toBe(before);
    }
  });
});
