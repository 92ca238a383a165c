// Test doubles served by @web/test-runner's dev server (Koa middleware):
// - a fake Calbridge BFF answering /v1/widget/... per the shared contract, on the page's origin;
// - a fake Cal.com frame page on a second origin: the same server reached as 127.0.0.1 while
//   tests run on localhost, so origin checks are real.
// Everything received is logged; tests read the log at GET /__fake/log.

const log = [];
let seq = 0;

const problem = (ctx, status, code, title) => {
  ctx.status = status;
  ctx.type = 'application/problem+json';
  ctx.body = JSON.stringify({ type: `https://calbridge.dev/problems/${code}`, title, status, code });
};

const readBody = (req) =>
  new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
  });

/** Tenants the fake knows: their Cal link decides how the fake frame behaves. */
const TENANTS = {
  demo: { calLink: 'fake', defaultEvent: 'intro' },
  brokenframe: { calLink: 'broken', defaultEvent: 'intro' },
  silentframe: { calLink: 'silent', defaultEvent: 'intro' },
  busy: { calLink: 'fake', defaultEvent: 'intro', sessions: 'rate_limited' },
  slow: { calLink: 'fake', defaultEvent: 'intro', sessions: 'slow' },
  flaky: { calLink: 'fake', defaultEvent: 'intro', config: 'fail-once' },
  // Native mode: the config offers it and sessions carry the booking scope.
  native: { calLink: 'fake', defaultEvent: 'intro', native: true },
  // Native mode whose session answers without the first page of free times (as the server does
  // when Cal.com misses the session's deadline): the picker asks for them itself.
  nativelate: { calLink: 'fake', defaultEvent: 'intro', native: true, lateSlots: true },
  // Native mode whose first session has expired by the time the picker uses it (its answer carries
  // no free times, so the picker's own request meets the expiry).
  nativeexpired: { calLink: 'fake', defaultEvent: 'intro', native: true, expireFirst: true, lateSlots: true },
  // Native mode asked for on a tenant that does not offer it.
  nonative: { calLink: 'fake', defaultEvent: 'intro' },
};
/** Native bookings by Idempotency-Key, so a repeated key answers the same booking. */
const nativeBookings = new Map();
/** Idempotency keys whose first request already failed (attendee "Fail Once"). */
const failedOnce = new Set();
/** Tokens the fake treats as expired (the first one minted for an `expireFirst` tenant). */
const expired = new Set();
const DAY = 86_400_000;

/** Free slots on weekdays at 09:00, 09:30 and 14:00 UTC, grouped by UTC day (the fake ignores the time zone). */
function fakeSlots(start, end) {
  const days = [];
  for (let t = Date.parse(start.slice(0, 10)); t < Date.parse(end); t += DAY) {
    const d = new Date(t);
    if (d.getUTCDay() === 0 || d.getUTCDay() === 6 || t + DAY < Date.now()) continue;
    const date = d.toISOString().slice(0, 10);
    days.push({
      date,
      slots: ['09:00', '09:30', '14:00'].map((hm) => {
        const s = new Date(`${date}T${hm}:00Z`);
        return { start: s.toISOString(), end: new Date(s.getTime() + 30 * 60_000).toISOString() };
      }),
    });
  }
  return days;
}
let flakyFailed = false;

const frameHtml = (mode) => `<!doctype html><html lang="en"><title>Fake Cal</title><body><p>Fake booking page</p><script>
const ns = new URLSearchParams(location.search).get('embed');
const post = (type, data) => parent.postMessage({ originator: 'CAL', type, namespace: ns, fullType: 'CAL:' + ns + ':' + type, data }, '*');
const mode = ${JSON.stringify(mode)};
if (mode === 'broken') post('linkFailed', { code: '404', msg: 'not found', data: { url: location.href } });
// Like Cal.com's page (embed-iframe.ts): __iframeReady first; linkReady only once the parent
// has answered with the method call parentKnowsIframeReady, from the parent window.
// window.name carries the namespace too (embed-core's createIframe sets cal-embed=<ns>).
if (mode === 'fake' && window.name === 'cal-embed=' + ns) {
  post('__iframeReady', {});
  post('__dimensionChanged', { iframeHeight: 480, iframeWidth: 600, isFirstTime: true });
}
addEventListener('message', (e) => {
  if (e.source === parent && e.data && e.data.originator === 'CAL' && e.data.method === 'parentKnowsIframeReady' && mode === 'fake') post('linkReady', {});
  if (e.data && e.data.fake === 'book')
    post('bookingSuccessfulV2', { uid: e.data.uid, title: 'Intro', startTime: '2026-12-01T09:00:00.000Z', endTime: '2026-12-01T09:30:00.000Z', eventTypeId: 7, status: 'ACCEPTED', paymentRequired: false, isRecurring: false });
});
</script></body></html>`;

export function fakeBff() {
  return async (ctx, next) => {
    const [host, port] = ctx.host.split(':');
    if (ctx.path === '/__fake/log') {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(log);
      return;
    }
    if (host === '127.0.0.1') {
      // The fake Cal.com origin: record every request, serve the frame page.
      log.push({ cal: true, method: ctx.method, url: ctx.url });
      const m = /^\/(fake|broken|silent)\/[^/]+\/embed$/.exec(ctx.path);
      if (!m) return problem(ctx, 404, 'not_found', 'Not found');
      ctx.type = 'text/html';
      ctx.body = frameHtml(m[1]);
      return;
    }
    const route = /^\/v1\/widget\/([^/]+)\/(config|sessions|bookings\/observed|slots|bookings)$/.exec(ctx.path);
    if (!route) return next();
    const [, slug, what] = route;
    const body = ctx.method === 'POST' ? await readBody(ctx.req) : '';
    log.push({
      method: ctx.method,
      path: ctx.path,
      query: ctx.querystring || undefined,
      body: body ? JSON.parse(body) : undefined,
      contentType: ctx.get('content-type') || undefined,
      authorization: ctx.get('authorization') || undefined,
      idempotencyKey: ctx.get('idempotency-key') || undefined,
    });
    const tenant = TENANTS[slug];
    if (!tenant) return problem(ctx, 404, 'tenant_not_found', 'Unknown tenant');
    if (what === 'config' && ctx.method === 'GET') {
      if (tenant.config === 'fail-once' && !flakyFailed) {
        flakyFailed = true;
        return problem(ctx, 503, 'unavailable', 'Try again');
      }
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({
        tenant: slug,
        calLink: tenant.calLink,
        calOrigin: `http://127.0.0.1:${port}`,
        defaultEvent: tenant.defaultEvent,
        consent: {
          version: '2026-11-01',
          text: 'We send your booking details to our scheduling provider to arrange the call.',
          purposes: [
            { id: 'booking', required: true, label: 'Arrange my call' },
            { id: 'marketing', required: false, label: 'Send me occasional news' },
          ],
          privacyPolicyUrl: 'https://example.com/privacy',
        },
        theme: 'light',
        modes: tenant.native ? ['inline', 'popup', 'floating', 'native'] : ['inline', 'popup', 'floating'],
      });
      return;
    }
    if (what === 'sessions' && ctx.method === 'POST') {
      if (tenant.sessions === 'rate_limited') {
        ctx.set('Retry-After', '30');
        return problem(ctx, 429, 'rate_limited', 'Too many requests');
      }
      if (tenant.sessions === 'slow') await new Promise((r) => setTimeout(r, 1500));
      const q = body ? JSON.parse(body) : undefined;
      const n = ++seq;
      if (tenant.expireFirst && !tenant.expiredOne) {
        tenant.expiredOne = true;
        expired.add(`tok-${n}`);
      }
      ctx.status = 201;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({
        token: `tok-${n}`,
        sessionId: `ses-${n}`,
        consentReceiptId: `rcpt-${n}`,
        expiresAt: new Date(Date.now() + 5 * 60_000).toISOString(),
        scopes: tenant.native ? ['bookings:observe', 'bookings:create'] : ['bookings:observe'],
        // As the server does (decision 0027): the first page the request named, when the session may book.
        ...(tenant.native && !tenant.lateSlots && q?.slots ? { slots: { ...q.slots, days: fakeSlots(q.slots.start, q.slots.end) } } : {}),
      });
      return;
    }
    if (what === 'bookings/observed' && ctx.method === 'POST') {
      if (!/^Bearer tok-\d+$/.test(ctx.get('authorization'))) return problem(ctx, 401, 'session_invalid', 'Bad token');
      const b = JSON.parse(body);
      ctx.status = 201;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ uid: b.uid, sessionId: 'ses', consentReceiptId: 'rcpt' });
      return;
    }
    if ((what === 'slots' || what === 'bookings') && !/^Bearer tok-\d+$/.test(ctx.get('authorization')))
      return problem(ctx, 401, 'session_invalid', 'Bad token');
    if ((what === 'slots' || what === 'bookings') && expired.has(ctx.get('authorization').slice(7)))
      return problem(ctx, 401, 'session_expired', 'Expired');
    if (what === 'slots' && ctx.method === 'GET') {
      const q = ctx.query;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ eventType: q.eventType, timeZone: q.timeZone, days: fakeSlots(String(q.start), String(q.end)) });
      return;
    }
    if (what === 'bookings' && ctx.method === 'POST') {
      const key = ctx.get('idempotency-key');
      if (!/^[A-Za-z0-9._:-]{8,128}$/.test(key)) return problem(ctx, 400, 'idempotency_key_required', 'Idempotency-Key required');
      const b = JSON.parse(body);
      // A start ending in :30 stands for a time someone else just took.
      if (b.start.includes(':30:00')) return problem(ctx, 422, 'calcom_rejected', 'Slot taken');
      // An attendee named "Fail Once" gets a server error on the first request of each key.
      if (b.attendee.name === 'Fail Once' && !failedOnce.has(key)) {
        failedOnce.add(key);
        return problem(ctx, 502, 'calcom_unavailable', 'Cal.com did not answer');
      }
      // Answer slowly, so a double click arrives while the first request is in flight.
      await new Promise((r) => setTimeout(r, 300));
      if (!nativeBookings.has(key)) {
        const start = new Date(b.start);
        nativeBookings.set(key, { uid: `nb-${nativeBookings.size + 1}`, status: 'accepted', start: start.toISOString(), end: new Date(start.getTime() + 30 * 60_000).toISOString(), eventTypeId: 7 });
      }
      ctx.status = 201;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(nativeBookings.get(key));
      return;
    }
    return problem(ctx, 405, 'method_not_allowed', 'Method not allowed');
  };
}
