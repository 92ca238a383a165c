import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { createPinnedFetch, OutboundAddressRefused } from './crm.pinned-fetch.js';
import { isPrivateAddress } from './crm.url-policy.js';

// Issue 13, finding 7: private destinations are refused at registration and at every connect,
// judged by ipaddr.js ranges (only global unicast), IPv6 forms that hide IPv4 included.

interface Vector {
  class: string;
  host: string;
  name?: boolean;
  note?: string;
  expected: { registration: string | null; connect: string | null };
}
const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/private-address-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };
const urlOf = (host: string) => `https://${host.includes(':') ? `[${host}]` : host}/hook`;
const named = (v: Vector) => [`${v.class}: ${v.host}${v.note ? ` (${v.note})` : ''}`, v] as const;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  expect((await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'acme', name: 'Acme', allowedOrigins: [] })).status).toBe(201);
});
afterAll(() => t.close());

/** What the pinned client does with a URL whose host resolves (for names) to `resolved`; nothing may be dialled. */
async function connect(url: string, resolved: string[]): Promise<string | null> {
  const f = createPinnedFetch({ resolveHost: async () => resolved, policy: { allowInsecureLoopback: false } });
  const signal = AbortSignal.timeout(2000);
  return f(url, { method: 'POST', headers: {}, body: '{}', signal }).then(
    () => null,
    (err: unknown) => (err instanceof OutboundAddressRefused ? err.code : 'connect_attempted'),
  );
}

describe('private destinations (finding 7)', () => {
  it.each(vectors.map(named))('when a destination at %s is registered, then the answer is as the table says', async (_n, v) => {
    const res = await request(t.app).post('/v1/admin/tenants/acme/destinations').set(asAdmin).send({ kind: 'webhook', url: urlOf(v.host) });
    if (v.expected.registration === null) {
      expect(res.status).toBe(201);
    } else {
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(v.expected.registration);
    }
  });

  it.each(vectors.filter((v) => v.expected.connect !== null).map(named))('when the client connects to %s, literally or through a name, then it is refused before dialling', async (_n, v) => {
    expect(await connect(urlOf(v.host), [])).toBe(v.expected.connect);
    if (!v.name) {
      expect(await connect('https://crm.example.com/hook', [v.host])).toBe(v.expected.connect);
      expect(isPrivateAddress(v.host)).toBe(true);
    }
  });

  it.each(vectors.filter((v) => v.expected.connect === null).map(named))('when %s is a public address, then it is not private', (_n, v) => {
    expect(isPrivateAddress(v.host)).toBe(false);
  });
});
