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
};
let flakyFailed = false;

const frameHtml = (mode) => `<!doctype html><html lang="en"><title>Fake Cal</title><body><p>Fake booking page</p><script>
const ns = new URLSearchParams(location.search).get('embed');
const post = (type, data) => parent.postMessage({ originator: 'CAL', type, namespace: ns, fullType: 'CAL:' + ns + ':' + type, data }, '*');
const mode = ${JSON.stringify(mode)};
if (mode === 'broken') post('linkFailed', { code: '404', msg: 'not found', data: { url: location.href } });
if (mode === 'fake') {
  post('__iframeReady', {});
  post('__dimensionChanged', { iframeHeight: 480, iframeWidth: 600, isFirstTime: true });
  post('linkReady', {});
}
addEventListener('message', (e) => {
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
    const route = /^\/v1\/widget\/([^/]+)\/(config|sessions|bookings\/observed)$/.exec(ctx.path);
    if (!route) return next();
    const [, slug, what] = route;
    const body = ctx.method === 'POST' ? await readBody(ctx.req) : '';
    log.push({ method: ctx.method, path: ctx.path, body: body ? JSON.parse(body) : undefined, authorization: ctx.get('authorization') || undefined });
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
        modes: ['inline', 'popup', 'floating'],
      });
      return;
    }
    if (what === 'sessions' && ctx.method === 'POST') {
      if (tenant.sessions === 'rate_limited') {
        ctx.set('Retry-After', '30');
        return problem(ctx, 429, 'rate_limited', 'Too many requests');
      }
      if (tenant.sessions === 'slow') await new Promise((r) => setTimeout(r, 1500));
      const n = ++seq;
      ctx.status = 201;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({
        token: `tok-${n}`,
        sessionId: `ses-${n}`,
        consentReceiptId: `rcpt-${n}`,
        expiresAt: new Date(Date.now() + 5 * 60_000).toISOString(),
        scopes: ['bookings:observe'],
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
    return problem(ctx, 405, 'method_not_allowed', 'Method not allowed');
  };
}
