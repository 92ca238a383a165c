import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { DEFAULT_CONSENT } from '../widget/widget.service.js';

// Issue 13, finding 4: malformed input answers 400 with a code, never 500, and is logged at info.
// One executor runs every vector of the JSON table; a class of input is one group of vectors.

interface Vector {
  class: string;
  description: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  auth: 'admin' | 'session' | 'origin' | 'none';
  body?: string;
  deep?: number;
  expected: { status: number; code: string };
}
const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/malformed-input-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

const ORIGIN = 'https://www.acme.test';
let t: TestApp;
let token: string;
const version = DEFAULT_CONSENT('https://calbridge.test').version;

beforeAll(async () => {
  t = await createTestApp({ env: { PUBLIC_URL: 'https://calbridge.test' } });
  const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'acme', name: 'Acme', allowedOrigins: [ORIGIN], calLink: 'acme/intro' });
  expect(res.status).toBe(201);
  const s = await request(t.app)
    .post('/v1/widget/acme/sessions')
    .set('Origin', ORIGIN)
    .send({ consent: { version, purposes: ['booking'] }, context: { pageUrl: `${ORIGIN}/`, referrer: '', utm: {} } });
  expect(s.status).toBe(201);
  token = s.body.token;
});
afterAll(() => t.close());

function send(v: Vector) {
  let r = (request(t.app) as unknown as Record<string, (p: string) => request.Test>)[v.method.toLowerCase()]!(v.path);
  if (v.auth === 'admin') r = r.set(asAdmin);
  if (v.auth === 'session' || v.auth === 'origin') r = r.set('Origin', ORIGIN);
  if (v.auth === 'session') r = r.set('Authorization', `Bearer ${token}`);
  const body = v.deep ? `${'['.repeat(v.deep)}${']'.repeat(v.deep)}` : v.body?.replaceAll('VERSION', version);
  if (body !== undefined) r = r.set('Content-Type', 'application/json').send(body);
  return r;
}

describe('malformed input (finding 4)', () => {
  it.each(vectors.map((v) => [`${v.class}: ${v.description}`, v] as const))('when %s is sent, then 400 with its code, never 500', async (_name, v) => {
    const before = t.logLines.length;
    const res = await send(v);
    expect(res.status).toBe(v.expected.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(v.expected.code);
    expect(JSON.stringify(res.body)).not.toMatch(/ at .*\.(?:ts|js):\d+/);
    // A client's mistake is not our error: nothing at warn or above.
    const levels = t.logLines.slice(before).map((l) => (JSON.parse(l) as { level: number }).level);
    expect(levels.filter((l) => l >= 40)).toEqual([]);
  });
});
