import type { z } from 'zod';
import { CalcomBadResponse, CalcomNotFound, CalcomRateLimited, CalcomRejected, CalcomTimeout, CalcomUnauthorized, CalcomUnavailable, type CalcomError, type CalcomFailure } from './calcom.errors.js';

/**
 * The transport under every API v2 resource module: one request at a time,
 * with a per-attempt timeout, retries with exponential backoff and jitter on
 * 429 and 5xx (honouring `Retry-After`), never on other 4xx, and failures
 * mapped to our AppErrors. Cal.com's message goes into `cause` with every
 * credential of the request scrubbed from it.
 */

/** How a request authenticates. */
export type CalcomAuth =
  | { kind: 'bearer'; token: string }
  /** Platform OAuth client: `x-cal-secret-key` (and `x-cal-client-id`). */
  | { kind: 'platform'; clientId: string; secret: string }
  | { kind: 'none' };

/** An API v2 operation as the document names it, e.g. `{ method: 'POST', path: '/v2/bookings' }`. */
export interface CalcomOperation<S extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The document's path template, `/v2/…` with `{param}` placeholders. */
  path: string;
  /** `cal-api-version` header value, for operations whose document entry requires one. */
  apiVersion?: string;
  /** Schema of the whole response body. */
  response: S;
  /**
   * `idempotent`: retried on 429, 5xx, network errors and timeouts.
   * `not-idempotent` (creating a booking): retried only on 429, which Cal.com
   * answers before doing anything; a 5xx or a timeout may have created it.
   */
  retry: 'idempotent' | 'not-idempotent';
}

/**
 * Cal.com's throttler's count for the caller after one answer (apps/api/v2/src/lib/throttler-guard.ts
 * incrementRateLimit): `X-RateLimit-Limit-<Name>`, `-Remaining-<Name>` (0 while blocked) and
 * `-Reset-<Name>` in seconds (to the block's end while blocked, else the window's).
 */
export interface RateLimitReading {
  limit: number;
  remaining: number;
  resetMs: number;
  /** The answer's status (429 when refused). */
  status: number;
}

/**
 * Watches Cal.com's rate-limit headers for one caller. A request that carries one is not retried
 * in-process on a 429: the owner knows the budget and reschedules its work past the reset instead
 * of holding a worker (reconciliation.budget.ts).
 */
export interface RateLimitObserver {
  observe(reading: RateLimitReading): void;
}

interface CalcomRequest {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  auth: CalcomAuth;
  rateLimit?: RateLimitObserver;
}

export interface CalcomHttpOptions {
  /** API v2 base, e.g. `https://api.cal.com/v2` (CALCOM_API_URL). */
  apiUrl: string;
  fetch: typeof globalThis.fetch;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Attempts in all, first included. Default 4. */
  maxAttempts?: number;
  /** First backoff step. Default 250 ms. */
  baseDelayMs?: number;
  /** Largest backoff step; a `Retry-After` longer than this gives up at once. Default 10 s. */
  maxDelayMs?: number;
  /** Injected so tests run without real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). Injected so tests are deterministic. */
  random?: () => number;
  /** For `Retry-After` given as an HTTP date. */
  now?: () => number;
  /** Called before each retry (metrics, debug logs): never given bodies or tokens. */
  onRetry?: (info: { operation: string; attempt: number; status: number | null; delayMs: number }) => void;
}

export interface CalcomHttp {
  request<S extends z.ZodType>(op: CalcomOperation<S>, req: CalcomRequest): Promise<z.infer<S>>;
  readonly apiUrl: string;
}

/** The cause attached to our CalcomErrors: what Cal.com said, without credentials. */
export class CalcomFailureError extends Error implements CalcomFailure {
  override name = 'CalcomFailure';
  readonly status: number | null;
  readonly operation: string;
  readonly calcomCode?: string;
  readonly calcomMessage?: string;
  constructor(f: CalcomFailure) {
    super(`${f.operation} failed${f.status === null ? '' : ` with ${f.status}`}${f.calcomMessage ? `: ${f.calcomMessage}` : ''}`);
    this.status = f.status;
    this.operation = f.operation;
    if (f.calcomCode !== undefined) this.calcomCode = f.calcomCode;
    if (f.calcomMessage !== undefined) this.calcomMessage = f.calcomMessage;
  }
}

const defaultSleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** Removes anything that looks like a credential: JWTs, Cal.com API keys, and the request's own secrets. */
export function scrubSecrets(text: string, known: string[] = []): string {
  let out = text;
  for (const k of known) if (k && k.length >= 8) out = out.split(k).join('[redacted]');
  return out
    .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted]')
    .replace(/cal_(?:live|test)_[A-Za-z0-9_]+/g, '[redacted]')
    .replace(/(Bearer\s+)\S+/gi, '$1[redacted]');
}

/**
 * How long Cal.com's throttler wants us to wait, in ms: it sends no `Retry-After`, but
 * `X-RateLimit-Reset-<name>` in seconds (apps/api/v2/src/lib/throttler-guard.ts; `-Default` for the
 * default throttler). With several named throttlers the longest wait wins. Undefined when absent.
 */
function parseRateLimitReset(headers: Headers): number | undefined {
  let longest: number | undefined;
  headers.forEach((value, name) => {
    if (!/^x-ratelimit-reset(?:-[\w-]+)?$/i.test(name)) return;
    const seconds = Number(value.trim());
    if (!Number.isFinite(seconds) || seconds < 0) return;
    longest = Math.max(longest ?? 0, Math.round(seconds * 1000));
  });
  return longest;
}

/**
 * The tightest of Cal.com's named throttlers on an answer (`Default` unless an endpoint has its own,
 * throttler-guard.ts handleApiEndpointThrottle): least remaining, then longest reset. Undefined when
 * the answer carries none (rate limiting off, or not Cal.com).
 */
export function readRateLimit(headers: Headers): Omit<RateLimitReading, 'status'> | undefined {
  const byName = new Map<string, { limit?: number; remaining?: number; resetMs?: number }>();
  headers.forEach((value, name) => {
    const m = /^x-ratelimit-(limit|remaining|reset)(?:-([\w-]+))?$/i.exec(name);
    const n = Number(value.trim());
    if (!m || value.trim() === '' || !Number.isFinite(n) || n < 0) return;
    const entry = byName.get((m[2] ?? '').toLowerCase()) ?? {};
    const kind = m[1]!.toLowerCase();
    if (kind === 'limit') entry.limit = n;
    else if (kind === 'remaining') entry.remaining = n;
    else entry.resetMs = Math.round(n * 1000);
    byName.set((m[2] ?? '').toLowerCase(), entry);
  });
  let tightest: Omit<RateLimitReading, 'status'> | undefined;
  for (const e of byName.values()) {
    if (e.limit === undefined || e.remaining === undefined || e.resetMs === undefined) continue;
    const r = { limit: e.limit, remaining: e.remaining, resetMs: e.resetMs };
    if (!tightest || r.remaining < tightest.remaining || (r.remaining === tightest.remaining && r.resetMs > tightest.resetMs)) tightest = r;
  }
  return tightest;
}

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function credentials(auth: CalcomAuth): string[] {
  if (auth.kind === 'bearer') return [auth.token];
  if (auth.kind === 'platform') return [auth.secret];
  return [];
}

function buildPath(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(String(v));
  });
}

/** Reads Cal.com's error body: `{ status: "error", error: { code, message } }` or RFC 6749 `{ error, error_description }`. */
function readError(text: string, secrets: string[]): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const err = body.error;
    if (err && typeof err === 'object') {
      const e = err as Record<string, unknown>;
      const message = typeof e.message === 'string' ? e.message : Array.isArray(e.message) ? e.message.join('; ') : undefined;
      return {
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        ...(message ? { message: scrubSecrets(message, secrets).slice(0, 500) } : {}),
      };
    }
    if (typeof err === 'string') {
      const d = typeof body.error_description === 'string' ? body.error_description : undefined;
      return { code: err, ...(d ? { message: scrubSecrets(d, secrets).slice(0, 500) } : {}) };
    }
    if (typeof body.message === 'string') return { message: scrubSecrets(body.message, secrets).slice(0, 500) };
  } catch {
    // not JSON: say nothing rather than echo an HTML page
  }
  return {};
}

export function createCalcomHttp(options: CalcomHttpOptions): CalcomHttp {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  /** Exponential backoff with "equal jitter": half the step fixed, half random. */
  function backoff(attempt: number): number {
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + random() * (step / 2));
  }

  async function request<S extends z.ZodType>(op: CalcomOperation<S>, req: CalcomRequest): Promise<z.infer<S>> {
    const operation = `${op.method} ${op.path}`;
    const secrets = credentials(req.auth);
    const url = new URL(apiUrl + buildPath(op.path.replace(/^\/v2(?=\/)/, ''), req.params));
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (op.apiVersion) headers['cal-api-version'] = op.apiVersion;
    if (req.auth.kind === 'bearer') headers.authorization = `Bearer ${req.auth.token}`;
    if (req.auth.kind === 'platform') {
      headers['x-cal-client-id'] = req.auth.clientId;
      headers['x-cal-secret-key'] = req.auth.secret;
    }
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    const fail = (status: number | null, e: { code?: string; message?: string } = {}) =>
      new CalcomFailureError({
        status,
        operation,
        ...(e.code !== undefined ? { calcomCode: e.code } : {}),
        ...(e.message !== undefined ? { calcomMessage: e.message } : {}),
      });

    for (let attempt = 1; ; attempt += 1) {
      const last = attempt >= maxAttempts;
      let res: Response;
      try {
        res = await options.fetch(url, { method: op.method, headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      } catch (err) {
        const timedOut = (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError';
        // Without an answer we cannot know whether Cal.com acted: only idempotent operations go again.
        if (!last && op.retry === 'idempotent') {
          const delayMs = backoff(attempt);
          options.onRetry?.({ operation, attempt, status: null, delayMs });
          await sleep(delayMs);
          continue;
        }
        const cause = fail(null, { message: timedOut ? `no answer within ${timeoutMs} ms` : scrubSecrets(String((err as Error)?.message ?? err), secrets) });
        throw timedOut ? new CalcomTimeout(cause) : new CalcomUnavailable(cause);
      }

      const reading = req.rateLimit ? readRateLimit(res.headers) : undefined;
      if (reading) req.rateLimit!.observe({ ...reading, status: res.status });

      if (res.ok) {
        const text = await res.text();
        let json: unknown;
        try {
          json = text === '' ? {} : JSON.parse(text);
        } catch {
          throw new CalcomBadResponse(fail(res.status, { message: 'the body is not JSON' }));
        }
        const parsed = op.response.safeParse(json);
        if (!parsed.success) {
          // Paths only: the values may be personal data or tokens.
          const where = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join(', ');
          throw new CalcomBadResponse(fail(res.status, { message: `unexpected shape at ${where}` }));
        }
        return parsed.data;
      }

      const text = await res.text().catch(() => '');
      const detail = readError(text, secrets);
      // Retry-After when there is one; Cal.com's 429s carry X-RateLimit-Reset-* instead.
      const retryAfterMs =
        parseRetryAfter(res.headers.get('retry-after'), now()) ?? (res.status === 429 ? parseRateLimitReset(res.headers) : undefined);
      // A caller that watches the budget reschedules past the reset itself rather than wait here.
      const retriable = (res.status === 429 && !req.rateLimit) || (res.status >= 500 && op.retry === 'idempotent');
      if (retriable && !last && (retryAfterMs === undefined || retryAfterMs <= maxDelayMs)) {
        const delayMs = retryAfterMs ?? backoff(attempt);
        options.onRetry?.({ operation, attempt, status: res.status, delayMs });
        await sleep(delayMs);
        continue;
      }
      throw toAppError(res.status, fail(res.status, detail), retryAfterMs);
    }
  }

  return { request, apiUrl };
}

function toAppError(status: number, cause: CalcomFailureError, retryAfterMs: number | undefined): CalcomError {
  // No reset named: Cal.com's default window and block last 60 s (throttler-guard.ts).
  if (status === 429) return new CalcomRateLimited((retryAfterMs ?? 60_000) / 1000, cause);
  if (status === 401 || status === 403) return new CalcomUnauthorized(cause);
  if (status === 404) return new CalcomNotFound(cause);
  if (status >= 500) return new CalcomUnavailable(cause);
  return new CalcomRejected(cause);
}
