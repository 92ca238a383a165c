import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'fuzz', name: 'Fuzz', allowedOrigins: [] });
});
afterAll(() => t.close());

/** A small deterministic generator so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth > 2 ? 6 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return r() > 0.5;
    case 2: return Math.floor(r() * 1e12) * (r() > 0.5 ? -1 : 1);
    case 3: return 'x'.repeat(Math.floor(r() * 300));
    case 4: return '\u0000\u202e<script>"\'';
    case 5: return ['acme', 'https://a.test', 'Europe/London', 'a/b'][Math.floor(r() * 4)];
    case 6: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const keys = ['slug', 'name', 'allowedOrigins', 'calLink', 'timeZone', 'tenant', 'label', 'widget', 'kind', 'url', 'events', 'rules', 'bands', 'rawDeliveriesDays', 'bookingsDays', 'consent', 'context', 'uid', 'start', 'attendee', 'cancelFutureBookings', '__proto__', 'constructor'];
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 5) }, () => [keys[Math.floor(r() * keys.length)]!, randomValue(r, depth + 1)]));
    }
  }
}

const endpoints: [string, string][] = [
  ['post', '/v1/admin/tenants'],
  ['patch', '/v1/admin/tenants/fuzz'],
  ['post', '/v1/admin/tokens'],
  ['post', '/v1/admin/tenants/fuzz/webhook-secret'],
  ['get', '/v1/admin/tenants?limit=%ZZ&cursor=../../'],
  ['delete', '/v1/admin/tokens/not-a-uuid'],
  ['get', '/v1/admin/tenants/fuzz/bookings?status=%00&from=yesterday&limit=-1'],
  ['get', '/v1/admin/tenants/fuzz/bookings/..%2F..'],
  ['get', '/v1/admin/tenants/fuzz/webhook-deliveries?cursor=99999999999999999999'],
  ['put', '/v1/admin/tenants/fuzz/lead-rules'],
  ['get', '/v1/admin/tenants/fuzz/leads?sort=%ZZ&grade[]=a'],
  ['get', '/v1/admin/tenants/fuzz/leads/not-a-uuid'],
  ['post', '/v1/admin/tenants/fuzz/destinations'],
  ['patch', '/v1/admin/tenants/fuzz/destinations/00000000-0000-0000-0000-000000000000'],
  ['delete', '/v1/admin/tenants/fuzz/destinations/x'],
  ['post', '/v1/admin/tenants/fuzz/destinations/x/secret'],
  ['get', '/v1/admin/tenants/fuzz/deliveries?cursor=-1'],
  ['post', '/v1/admin/tenants/fuzz/deliveries/x/replay'],
  ['get', '/v1/admin/tenants/fuzz/subjects/not-an-email/export?format=tar'],
  ['delete', '/v1/admin/tenants/fuzz/subjects/a%40b.example'],
  ['get', '/v1/admin/tenants/fuzz/consents?email=%E0%A4%A'],
  ['put', '/v1/admin/tenants/fuzz/retention'],
  ['get', '/v1/admin/tenants/fuzz/audit?limit=1e9'],
  ['post', '/v1/admin/tenants/fuzz/reconcile'],
  ['post', '/v1/widget/fuzz/sessions'],
  ['post', '/v1/widget/fuzz/bookings/observed'],
  ['get', '/v1/widget/fuzz/slots?start=x&end=%00'],
  ['post', '/v1/widget/fuzz/bookings'],
];

describe('admin API under fuzzed input', () => {
  it('when bodies, types and headers are random, then every answer is a 4xx problem or a success, never a 5xx', async () => {
    const r = rng(42);
    for (let i = 0; i < 900; i++) {
      const [method, path] = endpoints[i % endpoints.length]!;
      const body = i % 7 === 0 ? '{"broken' : JSON.stringify(randomValue(r));
      const ct = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'][i % 4]!;
      const auth = i % 11 === 0 ? {} : i % 13 === 0 ? { Authorization: 'Bearer short' } : asAdmin;
      const res = await (request(t.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(auth).set('Content-Type', ct).send(body);
      expect(res.status, `${method} ${path} ${body.slice(0, 80)}`).toBeLessThan(500);
      if (res.status >= 400) {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.code).toEqual(expect.any(String));
      }
    }
  });
});
