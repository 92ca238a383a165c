import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { success } from './envelope.js';
import { CalcomFailureError, createCalcomHttp, parseRetryAfter, readRateLimit, scrubSecrets, type CalcomOperation, type RateLimitReading } from './http.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOjF9.c2lnbmF0dXJlLXNlY3JldA';

const getOp = {
  method: 'GET',
  path: '/v2/things/{id}',
  apiVersion: '2024-08-13',
  response: success(z.object({ id: z.number() })),
  retry: 'idempotent',
} as const satisfies CalcomOperation;

const createOp = { ...getOp, method: 'POST', path: '/v2/things', retry: 'not-idempotent' } as const satisfies CalcomOperation;

type Step = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/** A fetch that answers from a script and records each call; no network, no timers. */
function scriptedFetch(steps: Step[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    calls.push({ url: String(input), init: init ?? {} });
    const step = steps.shift();
    if (!step) throw new Error('script ran out');
    if (step instanceof Error) throw step;
    const body = typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? {});
    return new Response(body, { status: step.status, headers: { 'content-type': 'application/json', ...step.headers } });
  };
  return { fetch, calls };
}

function client(steps: Step[], extra: { random?: () => number; maxAttempts?: number; now?: () => number } = {}) {
  const { fetch, calls } = scriptedFetch(steps);
  const sleeps: number[] = [];
  const http = createCalcomHttp({
    apiUrl: 'https://cal.example/v2',
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: extra.random ?? (() => 0.5),
    maxAttempts: extra.maxAttempts ?? 4,
    baseDelayMs: 100,
    maxDelayMs: 2_000,
    now: extra.now ?? (() => Date.parse('2026-11-25T10:00:00Z')),
  });
  return { http, calls, sleeps };
}

const ok = { status: 200, body: { status: 'success', data: { id: 7 } } };
const auth = { kind: 'bearer', token: TOKEN } as const;

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('Cal.com HTTP transport', () => {
  it('when a call succeeds, then it sends the bearer token, cal-api-version and the path under the API base', async () => {
    const { http, calls } = client([ok]);
    const r = await http.request(getOp, { auth, params: { id: 'a/b' }, query: { x: 1, y: undefined } });
    expect(r.data).toEqual({ id: 7 });
    expect(calls[0]!.url).toBe('https://cal.example/v2/things/a%2Fb?x=1');
    const headers = calls[0]!.init.headers as Record<string, string>;
    expect(headers['cal-api-version']).toBe('2024-08-13');
    expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('when the platform client authenticates, then x-cal-client-id and x-cal-secret-key are sent', async () => {
    const { http, calls } = client([ok]);
    await http.request(getOp, { auth: { kind: 'platform', clientId: 'cid', secret: 'platform-secret' }, params: { id: 1 } });
    const headers = calls[0]!.init.headers as Record<string, string>;
    expect(headers['x-cal-client-id']).toBe('cid');
    expect(headers['x-cal-secret-key']).toBe('platform-secret');
    expect(headers.authorization).toBeUndefined();
  });

  it('when Cal.com answers 503 then 200, then the call is retried after a jittered exponential backoff', async () => {
    const { http, calls, sleeps } = client([{ status: 503 }, { status: 502 }, ok], { random: () => 0.25 });
    const r = await http.request(getOp, { auth, params: { id: 1 } });
    expect(r.data.id).toBe(7);
    expect(calls).toHaveLength(3);
    // step 100 ms, then 200 ms; half fixed plus random * half
    expect(sleeps).toEqual([63, 125]);
  });

  it('when Cal.com answers 429 with Retry-After in seconds, then the wait is exactly that long', async () => {
    const { http, sleeps } = client([{ status: 429, headers: { 'retry-after': '1' } }, ok]);
    await http.request(getOp, { auth, params: { id: 1 } });
    expect(sleeps).toEqual([1000]);
  });

  it('when Retry-After is an HTTP date, then the wait runs until that moment', async () => {
    const { http, sleeps } = client([{ status: 503, headers: { 'retry-after': 'Wed, 25 Nov 2026 10:00:01 GMT' } }, ok]);
    await http.request(getOp, { auth, params: { id: 1 } });
    expect(sleeps).toEqual([1000]);
  });

  it('when Retry-After asks for longer than we wait, then it gives up at once with calcom_rate_limited and that Retry-After', async () => {
    const { http, calls, sleeps } = client([{ status: 429, headers: { 'retry-after': '120' } }]);
    const err = await failure(http.request(getOp, { auth, params: { id: 1 } }));
    expect(err.code).toBe('calcom_rate_limited');
    expect(err.headers['Retry-After']).toBe('120');
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  // Cal.com's throttler (apps/api/v2/src/lib/throttler-guard.ts) sends no Retry-After, only X-RateLimit-*-Default.
  it('when Cal.com answers 429 with X-RateLimit-Reset-Default and no Retry-After, then the wait is that many seconds', async () => {
    const { http, sleeps } = client([
      { status: 429, headers: { 'x-ratelimit-limit-default': '120', 'x-ratelimit-remaining-default': '0', 'x-ratelimit-reset-default': '1' } },
      ok,
    ]);
    await http.request(getOp, { auth, params: { id: 1 } });
    expect(sleeps).toEqual([1000]);
  });

  it('when X-RateLimit-Reset asks for longer than we wait, then it gives up at once with calcom_rate_limited and Retry-After from it', async () => {
    const { http, calls } = client([{ status: 429, headers: { 'x-ratelimit-reset-default': '37', 'x-ratelimit-reset-burst': '5' } }]);
    const err = await failure(http.request(getOp, { auth, params: { id: 1 } }));
    expect(err.code).toBe('calcom_rate_limited');
    expect(err.headers['Retry-After']).toBe('37');
    expect(calls).toHaveLength(1);
  });

  it('when the caller watches the budget, then every answer reports Cal.com\'s limit, remaining and reset, and a 429 is not waited out in-process', async () => {
    const limits = (remaining: string, reset: string) => ({ 'x-ratelimit-limit-default': '500', 'x-ratelimit-remaining-default': remaining, 'x-ratelimit-reset-default': reset });
    const { http, calls, sleeps } = client([
      { ...ok, headers: limits('499', '60') },
      { status: 429, headers: limits('0', '1') },
    ]);
    const seen: RateLimitReading[] = [];
    const rateLimit = { observe: (r: RateLimitReading) => seen.push(r) };
    await http.request(getOp, { auth, params: { id: 1 }, rateLimit });
    const err = await failure(http.request(getOp, { auth, params: { id: 1 }, rateLimit }));
    expect(err.code).toBe('calcom_rate_limited');
    expect(err.headers['Retry-After']).toBe('1');
    expect(seen).toEqual([
      { limit: 500, remaining: 499, resetMs: 60_000, status: 200 },
      { limit: 500, remaining: 0, resetMs: 1000, status: 429 },
    ]);
    expect(calls).toHaveLength(2);
    expect(sleeps).toEqual([]);
  });

  it('when an answer names several throttlers, then the tightest one is read; none, then nothing', () => {
    const h = new Headers({
      'x-ratelimit-limit-default': '500',
      'x-ratelimit-remaining-default': '400',
      'x-ratelimit-reset-default': '30',
      'x-ratelimit-limit-booking': '10',
      'x-ratelimit-remaining-booking': '2',
      'x-ratelimit-reset-booking': '50',
    });
    expect(readRateLimit(h)).toEqual({ limit: 10, remaining: 2, resetMs: 50_000 });
    expect(readRateLimit(new Headers({ 'x-ratelimit-remaining-default': 'lots' }))).toBeUndefined();
  });

  it('when every attempt fails with 500, then it stops after maxAttempts with calcom_unavailable', async () => {
    const { http, calls } = client([{ status: 500 }, { status: 500 }, { status: 500 }], { maxAttempts: 3 });
    const err = await failure(http.request(getOp, { auth, params: { id: 1 } }));
    expect(err.code).toBe('calcom_unavailable');
    expect(calls).toHaveLength(3);
  });

  it('when Cal.com answers 400, then there is no retry and the error is calcom_rejected with its message as cause', async () => {
    const { http, calls } = client([
      { status: 400, body: { status: 'error', error: { code: 'BadRequestException', message: 'User either already has booking at this time or is not available' } } },
    ]);
    const err = await failure(http.request(getOp, { auth, params: { id: 1 } }));
    expect(err.code).toBe('calcom_rejected');
    expect(calls).toHaveLength(1);
    expect(err.cause).toBeInstanceOf(CalcomFailureError);
    expect((err.cause as CalcomFailureError).calcomMessage).toBe('User either already has booking at this time or is not available');
    expect((err.cause as CalcomFailureError).operation).toBe('GET /v2/things/{id}');
  });

  it('when Cal.com answers 401, then there is no retry and the error is calcom_unauthorized', async () => {
    const { http, calls } = client([{ status: 401, body: { status: 'error', error: { code: 'UnauthorizedException', message: 'ACCESS_TOKEN_IS_EXPIRED' } } }]);
    expect((await failure(http.request(getOp, { auth, params: { id: 1 } }))).code).toBe('calcom_unauthorized');
    expect(calls).toHaveLength(1);
  });

  it('when Cal.com answers 404, then there is no retry and the error is calcom_not_found', async () => {
    const { http, calls } = client([{ status: 404 }]);
    expect((await failure(http.request(getOp, { auth, params: { id: 1 } }))).code).toBe('calcom_not_found');
    expect(calls).toHaveLength(1);
  });

  it('when Cal.com echoes our token in an error message, then the cause carries it redacted', async () => {
    const { http } = client([{ status: 400, body: { status: 'error', error: { code: 'X', message: `bad token ${TOKEN} and cal_live_abc123` } } }]);
    const err = await failure(http.request(getOp, { auth, params: { id: 1 } }));
    const text = JSON.stringify({ message: err.message, cause: String(err.cause), detail: err.cause });
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('cal_live_abc123');
    expect(text).toContain('[redacted]');
  });

  it('when creating (not idempotent) meets a 500, then it is not sent again', async () => {
    const { http, calls } = client([{ status: 500 }, ok]);
    expect((await failure(http.request(createOp, { auth, body: { a: 1 } }))).code).toBe('calcom_unavailable');
    expect(calls).toHaveLength(1);
  });

  it('when creating (not idempotent) meets a 429, then it is retried because Cal.com did nothing', async () => {
    const { http, calls } = client([{ status: 429, headers: { 'retry-after': '0' } }, ok]);
    await http.request(createOp, { auth, body: { a: 1 } });
    expect(calls).toHaveLength(2);
    expect(calls[1]!.init.body).toBe('{"a":1}');
  });

  it('when the network fails on an idempotent call, then it is retried', async () => {
    const { http, calls } = client([new TypeError('fetch failed'), ok]);
    await http.request(getOp, { auth, params: { id: 1 } });
    expect(calls).toHaveLength(2);
  });

  it('when an attempt times out on a call that is not idempotent, then calcom_timeout and no second attempt', async () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const { http, calls } = client([timeout, ok]);
    expect((await failure(http.request(createOp, { auth, body: {} }))).code).toBe('calcom_timeout');
    expect(calls).toHaveLength(1);
  });

  it('when a real slow answer exceeds the timeout, then the request is aborted', async () => {
    const slow: typeof globalThis.fetch = (_u, init) =>
      new Promise((_ok, fail) => init?.signal?.addEventListener('abort', () => fail(init.signal!.reason)));
    const http = createCalcomHttp({ apiUrl: 'https://cal.example/v2', fetch: slow, timeoutMs: 20, maxAttempts: 1 });
    expect((await failure(http.request(getOp, { auth, params: { id: 1 } }))).code).toBe('calcom_timeout');
  });

  it('when the body does not match the schema, then calcom_bad_response names the path, not the values', async () => {
    const { http } = client([{ status: 200, body: { status: 'success', data: { id: 'secret-value' } } }]);
    const err = await failure(http.request(getOp, { auth, params: { id: 1 } }));
    expect(err.code).toBe('calcom_bad_response');
    expect(String(err.cause)).toContain('data.id');
    expect(String(err.cause)).not.toContain('secret-value');
  });
});

describe('helpers', () => {
  it('when Retry-After is missing or garbage, then it is undefined', () => {
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter('2.5', 0)).toBe(2500);
  });

  it('when text holds credentials, then scrubSecrets removes JWTs, API keys, bearer values and known secrets', () => {
    const out = scrubSecrets(`a ${TOKEN} b cal_test_xyz Bearer abc.def my-long-secret`, ['my-long-secret']);
    expect(out).toBe('a [redacted] b [redacted] Bearer [redacted] [redacted]');
  });
});
