import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asMetrics, createTestApp, type TestApp } from '../test-support/app.js';
import { bookingBody, createTenant, setWebhookSecret } from './webhooks.test-support.js';
import { signCalcomBody } from './webhooks.signature.js';

// Deliveries with a declared length are answered before Express (webhooks.fast-path.ts); the rest
// (chunked bodies, encoded bodies) go through the Express route. A sender must not tell them apart.

const SECRET = 'whsec_fast_path_secret_00000000000000';
let t: TestApp;
let server: Server;
let port: number;
beforeAll(async () => {
  t = await createTestApp();
  await setWebhookSecret(t, await createTenant(t, 'acme'), SECRET);
  server = createServer(t.app);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  await t.close();
});

/** Posts over real HTTP: with Content-Length (the fast path) or chunked (no length: Express's route). */
function post(body: string, options: { chunked: boolean; headers?: Record<string, string> }): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((ok, fail) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-cal-signature-256': signCalcomBody(body, SECRET), ...options.headers };
    if (!options.chunked) headers['content-length'] = String(Buffer.byteLength(body));
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/webhooks/calcom/acme', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    if (options.chunked) {
      // Two writes without a length: Node sends them chunked.
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    } else req.end(body);
  });
}

async function stored(uid: string): Promise<number> {
  return (await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_inbox WHERE booking_uid = $1', [uid])).rows[0]!.n;
}

/** The headers a sender sees, without the ones that differ by nature (date, framing, the request's own id). */
function comparable(h: IncomingHttpHeaders): Record<string, unknown> {
  const { date: _d, connection: _c, 'keep-alive': _k, 'transfer-encoding': _te, 'content-length': _cl, 'x-request-id': _id, etag: _e, ...rest } = h;
  return rest;
}

async function metric(line: RegExp): Promise<number> {
  const res = await request(t.app).get('/metrics').set(asMetrics);
  return Number(line.exec(res.text)?.[1] ?? 0);
}

describe('webhook intake before Express', () => {
  it('when one delivery comes with a length and another chunked, then both are stored once and answered with the same status, body and headers', async () => {
    const fast = await post(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-1' }), { chunked: false });
    const routed = await post(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-2' }), { chunked: true });
    expect(fast.status).toBe(200);
    expect(routed.status).toBe(200);
    expect(JSON.parse(fast.text)).toEqual({ received: true, duplicate: false });
    expect(fast.text).toBe(routed.text);
    expect(comparable(fast.headers)).toEqual(comparable(routed.headers));
    expect(fast.headers['content-security-policy']).toContain("default-src 'none'");
    expect(fast.headers['x-frame-options']).toBe('DENY');
    expect(fast.headers['cache-control']).toBe('no-store');
    expect(await stored('fast-1')).toBe(1);
    expect(await stored('fast-2')).toBe(1);
  });

  it('when the same delivery comes again, then the answer says duplicate and nothing more is stored', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-dup' });
    await post(body, { chunked: false });
    const again = await post(body, { chunked: false });
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text)).toEqual({ received: true, duplicate: true });
    expect(await stored('fast-dup')).toBe(1);
  });

  it('when the sender names its request id, then the answer echoes it and the log line names the route pattern, never the path or the body', async () => {
    const res = await post(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-log' }), { chunked: false, headers: { 'x-request-id': 'cal-req-42' } });
    expect(res.headers['x-request-id']).toBe('cal-req-42');
    const line = t.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === 'cal-req-42');
    expect(line).toMatchObject({ msg: 'request', method: 'POST', route: '/v1/webhooks/calcom/:tenant', status: 200 });
    expect(t.logLines.some((l) => l.includes('/v1/webhooks/calcom/acme') || l.includes('ada@example.test') || l.includes('fast-log'))).toBe(false);
  });

  it('when the signature does not verify, then 401 signature_invalid as problem+json with the security headers, and nothing is stored', async () => {
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-forged' });
    const res = await post(body, { chunked: false, headers: { 'x-cal-signature-256': signCalcomBody(body, 'whsec_someone_else_000000000000000000') } });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect((JSON.parse(res.text) as { code: string }).code).toBe('signature_invalid');
    expect(await stored('fast-forged')).toBe(0);
  });

  it('when deliveries are answered, then the HTTP metrics count them under the route pattern', async () => {
    const counted = /^calbridge_http_requests_total\{method="POST",route="\/v1\/webhooks\/calcom\/:tenant",status="200"\} ([0-9]+)$/m;
    const before = await metric(counted);
    await post(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-m1' }), { chunked: false });
    await post(bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-m2' }), { chunked: true });
    expect(await metric(counted)).toBe(before + 2);
  });

  it('when the sender goes away before the declared length arrived, then nothing is stored and the delivery is counted as refused', async () => {
    const refused = /^calbridge_webhook_deliveries_total\{outcome="rejected",code="invalid_request"\} ([0-9]+)$/m;
    const before = await metric(refused);
    const body = bookingBody('BOOKING_CREATED', t.clock.now(), { uid: 'fast-cut' });
    const socket = connect(port, '127.0.0.1');
    await new Promise((ok) => socket.once('connect', ok));
    const head = `POST /v1/webhooks/calcom/acme HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Cal-Signature-256: ${signCalcomBody(body, SECRET)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    // The server has read the cut-off body once the metric moves: wait for that, not for a time.
    await new Promise<void>((ok) => socket.write(head + body.slice(0, 100), () => ok()));
    socket.destroy();
    for (let i = 0; i < 200 && (await metric(refused)) === before; i++) await new Promise((ok) => setImmediate(ok));
    expect(await metric(refused)).toBe(before + 1);
    expect(await stored('fast-cut')).toBe(0);
  });
});
