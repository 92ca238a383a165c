import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An API v2 error, rendered the way Cal.com's Nest exception filters do
 * (apps/api/v2/src/filters/http-exception.filter.ts):
 * `{ status: "error", timestamp, path, error: { code: <exception name>, message } }`.
 * The OpenAPI document declares no error schemas at all; this shape comes from the source.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /** Nest's exception class name for the status, used as `error.code`. */
  get code(): string {
    return NEST_EXCEPTION_NAMES[this.status] ?? 'HttpException';
  }
}

const NEST_EXCEPTION_NAMES: Record<number, string> = {
  400: 'BadRequestException',
  401: 'UnauthorizedException',
  403: 'ForbiddenException',
  404: 'NotFoundException',
  409: 'ConflictException',
  429: 'ThrottlerException',
  500: 'InternalServerErrorException',
};

/**
 * An RFC 6749 error from the OAuth2 endpoints, rendered as Cal.com's
 * OAuth2HttpExceptionFilter does: the bare `{ error, error_description }`.
 */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Raw request body (empty string when none). */
  rawBody: string;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** Minimal method + path router; `:name` segments become params. */
export class Router {
  private routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const source = path
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          keys.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { handler: route.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

/** `{ status: "success", data, ...extra }` — Cal.com's success envelope. */
export function sendSuccess(res: ServerResponse, status: number, data: unknown, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { status: 'success', data, ...extra });
}

export function sendApiError(ctx: RequestContext, err: ApiError): void {
  sendJson(ctx.res, err.status, {
    status: 'error',
    timestamp: new Date().toISOString(),
    path: ctx.url.pathname + ctx.url.search,
    error: { code: err.code, message: err.message },
  });
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(html);
}

export async function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new ApiError(413, 'Request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON object body; anything else is a 400 like Nest's ValidationPipe. */
export function jsonBody(ctx: RequestContext): Record<string, unknown> {
  if (!ctx.rawBody) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.rawBody);
  } catch {
    throw new ApiError(400, 'Request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError(400, 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Enforces the `cal-api-version` header on operations whose OpenAPI entry
 * marks it required. Cal.com falls back to an older version when it is
 * missing; the sandbox emulates only the documented version, so it refuses
 * instead of silently answering in a shape nobody asked for.
 */
export function requireApiVersion(ctx: RequestContext, version: string): void {
  const got = ctx.req.headers['cal-api-version'];
  if (got !== version) {
    throw new ApiError(
      400,
      `cal-api-version header must be ${version} (got ${got === undefined ? 'none' : String(got)}); ` +
        'the sandbox does not emulate older versions of this endpoint',
    );
  }
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ApiError(400, `${key} must be a string`);
  return v;
}

export function requiredString(body: Record<string, unknown>, key: string): string {
  const v = optionalString(body, key);
  if (v === undefined || v === '') throw new ApiError(400, `${key} should not be empty`);
  return v;
}
