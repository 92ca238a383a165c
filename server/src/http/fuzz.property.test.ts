import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth, startCalcomHarness, type CalcomHarness } from '../test-support/calcom.js';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { asAdmin, asMetrics } from '../test-support/app.js';
import { bookingBody, setWebhookSecret } from '../webhooks/webhooks.test-support.js';
import { signCalcomBody } from '../webhooks/webhooks.signature.js';
import type { TestApp } from '../test-support/app.js';

// Issue 13: property-based fuzzing of every public and admin route. Whatever a client sends
// (NUL, lone surrogates, broken escapes, huge numbers, deep JSON, wrong types, odd Unicode, in
// the path, query, headers and body), the answer is never a 5xx, never carries a stack, and
// nothing is logged at error level. `npm test` runs a fixed seed with a modest number of runs;
// `npm run fuzz` runs many more (CALBRIDGE_FUZZ_RUNS, CALBRIDGE_FUZZ_SEED).
//
// Cal.com is the sandbox (the real stand-in), so routes that call it (managed users, webhook
// registration, reconciliation, slots, native booking) answer as they would in production.

const RUNS = Number(process.env.CALBRIDGE_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.CALBRIDGE_FUZZ_SEED ?? 20261201);

const ORIGIN = 'https://www.fuzz.test';
const WEBHOOK_SECRET = 'whsec_fuzz_000000000000000000000000000000';

/** `:name` placeholders are filled by the fuzzer; `slug`/`tenant` are often the real tenant so requests get deep. */
const ROUTES: [method: string, path: string][] = [
  // public
  ['get', '/v1/widget/:tenant/config'],
  ['options', '/v1/widget/:tenant/sessions'],
  ['post', '/v1/widget/:tenant/sessions'],
  ['post', '/v1/widget/:tenant/bookings/observed'],
  ['get', '/v1/widget/:tenant/slots'],
  ['post', '/v1/widget/:tenant/bookings'],
  ['post', '/v1/webhooks/calcom/:tenant'],
  ['get', '/v1/oauth/calcom/callback'],
  ['get', '/privacy'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
  ['get', '/:file'],
  // admin (server/src/admin/fuzz.test.ts lists the same surface)
  ['post', '/v1/admin/tokens'],
  ['delete', '/v1/admin/tokens/:id'],
  ['post', '/v1/admin/tenants'],
  ['get', '/v1/admin/tenants'],
  ['get', '/v1/admin/tenants/:slug'],
  ['patch', '/v1/admin/tenants/:slug'],
  ['post', '/v1/admin/tenants/:slug/webhook-secret'],
  ['get', '/v1/admin/tenants/:slug/webhook-deliveries'],
  ['get', '/v1/admin/tenants/:slug/bookings'],
  ['get', '/v1/admin/tenants/:slug/bookings/:uid'],
  ['get', '/v1/oauth/calcom/:slug/start'],
  ['post', '/v1/admin/tenants/:slug/calcom/managed-user'],
  ['delete', '/v1/admin/tenants/:slug/calcom/managed-user'],
  ['delete', '/v1/admin/tenants/:slug/calcom/oauth'],
  ['post', '/v1/admin/tenants/:slug/calcom/webhook'],
  ['post', '/v1/admin/tenants/:slug/reconcile'],
  ['get', '/v1/admin/tenants/:slug/subjects/:email/export'],
  ['delete', '/v1/admin/tenants/:slug/subjects/:email'],
  ['get', '/v1/admin/tenants/:slug/consents'],
  ['get', '/v1/admin/tenants/:slug/retention'],
  ['put', '/v1/admin/tenants/:slug/retention'],
  ['get', '/v1/admin/tenants/:slug/audit'],
  ['get', '/v1/admin/tenants/:slug/lead-rules'],
  ['put', '/v1/admin/tenants/:slug/lead-rules'],
  ['get', '/v1/admin/tenants/:slug/leads'],
  ['get', '/v1/admin/tenants/:slug/leads/:id'],
  ['post', '/v1/admin/tenants/:slug/destinations'],
  ['get', '/v1/admin/tenants/:slug/destinations'],
  ['get', '/v1/admin/tenants/:slug/destinations/:id'],
  ['patch', '/v1/admin/tenants/:slug/destinations/:id'],
  ['delete', '/v1/admin/tenants/:slug/destinations/:id'],
  ['post', '/v1/admin/tenants/:slug/destinations/:id/secret'],
  ['get', '/v1/admin/tenants/:slug/deliveries'],
  ['post', '/v1/admin/tenants/:slug/deliveries/:id/replay'],
];

// --- arbitraries ---------------------------------------------------------------------------

/** Strings attackers reach for first. */
const NASTY = [
  '\u0000', 'a\u0000b', '\uD800', '\uDFFF', 'x\uDBFFy', '\uFEFF', '\u202E', '\u200B', 'e\u0301', '𝔘𝔫𝔦', '👩‍👩‍👧',
  '99999999999999999999', '-1', '1e309', 'NaN', 'Infinity', '0x7fffffff', '9223372036854775808', '',
  '../../etc/passwd', '..%2F..', '<script>alert(1)</script>', "'; DROP TABLE bookings; --", '{"a":', '[[[[', 'null', 'true',
  'fuzz', 'a@b.example', '00000000-0000-4000-8000-000000000000', 'x'.repeat(5000),
];
/** Percent-escapes that are not UTF-8 or decode to something unstorable, used raw in paths and queries. */
const RAW_ESCAPES = ['%00', '%ZZ', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF', '%', '%%', '%2e%2e', '%EF%BF%BF'];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((u) => String.fromCharCode(...u)) },
);

/** A path segment: the real tenant/slug, a nasty string percent-encoded, or a raw broken escape. */
const segment = (real: string | null) =>
  fc.oneof(
    ...(real ? [{ weight: 3, arbitrary: fc.constant(real) }] : []),
    { weight: 3, arbitrary: text.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD')).slice(0, 300) || 'x') },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...RAW_ESCAPES), fc.string({ maxLength: 5 })).map(([e, s]) => `${e}${encodeURIComponent(s)}`) },
  );

const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER * 10, 0.1, -0));

/** JSON values, including wrong types and nesting deeper than any contract. */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(text, fc.constantFrom('uid', 'consent', 'context', 'nonce', 'metadata', 'cursor', '__proto__', 'constructor', 'url', 'kind', 'rules')), tie('value'), { maxKeys: 5 }),
  ),
})).value;
const deep = fc.integer({ min: 30, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);

/** A body: JSON text of a random value, a deep nesting, broken JSON, or nothing. */
const bodyText = fc.oneof(
  { weight: 5, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.constantFrom('{"broken', '\u0000', '{"a":1}garbage', '', '{"uid":"\\u0000"}', '{"\\ud800":1}') },
);

/** A signed Cal.com booking delivery with adversarial values where Cal.com puts data, so the projection is reached. */
const TRIGGERS = ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED', 'BOOKING_REQUESTED', 'BOOKING_NO_SHOW_UPDATED', 'MEETING_ENDED'];
const delivery = fc
  .record({
    trigger: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TRIGGERS) }, { weight: 1, arbitrary: text }),
    uid: fc.oneof({ weight: 2, arbitrary: fc.nat({ max: 50 }).map((n) => `bk-fuzz-${n}`) }, { weight: 1, arbitrary: text }),
    status: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('ACCEPTED', 'PENDING', 'CANCELLED') }, { weight: 1, arbitrary: text }),
    email: fc.oneof({ weight: 4, arbitrary: fc.constant('a@b.example') }, { weight: 1, arbitrary: text }),
    metaKey: fc.oneof(fc.constantFrom('calbridge_tenant', 'cb_nonce', 'cb_receipt', 'calbridge_tenant\u0000', 'cb_nonce\u0000'), text),
    metaValue: fc.oneof({ weight: 3, arbitrary: text }, { weight: 1, arbitrary: jsonValue }),
    rescheduleUid: fc.option(text),
    skewSeconds: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-60, 600, -1e9, 1e9) }),
  })
  .map((d) => ({ ...d, build: (now: Date) => bookingBody(d.trigger, new Date(now.getTime() + d.skewSeconds * 1000), {
    uid: d.uid,
    status: d.status,
    attendees: [{ name: d.email, email: d.email, timeZone: 'UTC' }],
    metadata: { [d.metaKey]: d.metaValue },
    ...(d.rescheduleUid ? { rescheduleUid: d.rescheduleUid } : {}),
  }) }));

const query = fc.dictionary(
  fc.constantFrom('cursor', 'limit', 'status', 'email', 'from', 'to', 'sort', 'grade', 'format', 'start', 'end', 'timeZone', 'eventType', 'state', 'code', 'error', 'leadId', 'x'),
  fc.oneof(text, fc.constantFrom(...RAW_ESCAPES)),
  { maxKeys: 4 },
);

const request$ = fc.record({
  // The intake gets a larger share: its signed deliveries reach the booking projection.
  route: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ROUTES) }, { weight: 1, arbitrary: fc.constant(['post', '/v1/webhooks/calcom/:tenant'] as [string, string]) }),
  params: fc.array(segment(null), { minLength: 4, maxLength: 4 }),
  useRealTenant: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  query,
  body: bodyText,
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/merge-patch+json'),
  auth: fc.constantFrom('admin', 'session', 'metrics', 'none', 'garbage'),
  origin: fc.constantFrom(ORIGIN, 'https://evil.test', 'null', ''),
  signWebhook: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  delivery: fc.option(delivery, { freq: 4 }),
  headerNoise: fc.constantFrom('', 'Bearer \u00ff', 'x'.repeat(3000)),
});

// --- the app ---------------------------------------------------------------------------------

let database: TestDatabase;
let h: CalcomHarness;
let session = '';
const app = () => h.instances[0]!.app;

beforeAll(async () => {
  database = await createTestDatabase();
  h = await startCalcomHarness(database);
  const res = await request(app()).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'fuzz', name: 'Fuzz', allowedOrigins: [ORIGIN], calLink: 'demo/intro-call' });
  expect(res.status).toBe(201);
  await setWebhookSecret({ config: h.config, clock: h.clock, database } as unknown as TestApp, res.body.id, WEBHOOK_SECRET);
  expect((await connectWithOAuth(h, app(), 'fuzz')).callback.status).toBe(200);
  const config = await request(app()).get('/v1/widget/fuzz/config').set('Origin', ORIGIN);
  const s = await request(app())
    .post('/v1/widget/fuzz/sessions')
    .set('Origin', ORIGIN)
    .send({ consent: { version: config.body.consent.version, purposes: ['booking'] }, context: { pageUrl: `${ORIGIN}/`, referrer: '', utm: {} } });
  expect(s.status).toBe(201);
  session = s.body.token;
}, 60_000);
afterAll(async () => {
  await h.close();
  await database.drop();
});

/** A stack frame or source path in an answer means internals leaked. */
const STACK = /\bat [^\n]*\(?[^\s()]+\.(?:ts|js|mjs):\d+|node_modules\/|Error: [^"]*\n\s+at /;

describe('every route under property-based fuzzing', () => {
  it(`when ${RUNS} random and adversarial requests arrive (seed ${SEED}), then none is answered 5xx, leaks a stack or logs an error`, async () => {
    await fc.assert(
      fc.asyncProperty(request$, async (r) => {
        const [method, template] = r.route;
        let i = 0;
        const path = template.replace(/:(\w+)/g, (_m, name: string) => {
          const p = r.params[i++]!;
          return r.useRealTenant && (name === 'tenant' || name === 'slug') ? 'fuzz' : p;
        });
        const qs = Object.entries(r.query)
          .map(([k, v]) => `${k}=${/^%/.test(v) ? v : encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))}`)
          .join('&');
        const url = qs ? `${path}?${qs}` : path;
        const before = h.instances[0]!.logLines.length;

        let req = (request(app()) as unknown as Record<string, (p: string) => request.Test>)[method]!(url).set('Content-Type', r.contentType);
        if (r.auth === 'admin') req = req.set(asAdmin);
        if (r.auth === 'session') req = req.set('Authorization', `Bearer ${session}`);
        if (r.auth === 'metrics') req = req.set(asMetrics);
        if (r.auth === 'garbage') req = req.set('Authorization', r.headerNoise || 'Bearer .');
        if (r.origin) req = req.set('Origin', r.origin);
        // The intake: a booking-shaped delivery (often signed, to reach the projection) or any body.
        let body = r.body;
        if (template.startsWith('/v1/webhooks/')) {
          if (r.delivery) body = r.delivery.build(h.clock.now());
          req = req.set('X-Cal-Signature-256', r.signWebhook ? signCalcomBody(body, WEBHOOK_SECRET) : r.headerNoise || 'nope');
        }
        if (template.includes('/bookings') && method === 'post') req = req.set('Idempotency-Key', `fuzz-${i}-${r.body.length}`);
        const res = await (method === 'get' || method === 'options' ? req : req.send(body));

        const what = `${method.toUpperCase()} ${url.slice(0, 200)} ${body.slice(0, 160)}`;
        expect(res.status, what).toBeLessThan(500);
        expect(res.text ?? '', what).not.toMatch(STACK);
        if (res.status >= 400 && !String(res.headers['content-type']).startsWith('text/html')) {
          expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
          expect(res.body.code, what).toEqual(expect.any(String));
        }
        const errors = h.instances[0]!.logLines.slice(before).filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
        expect(errors, what).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});
