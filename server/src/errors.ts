/**
 * Every failure the API reports has a stable `code` from this union and one
 * HTTP status. Routes throw; one middleware (http/problem.ts) writes the answer.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'tenant_not_found'
  | 'tenant_exists'
  | 'token_not_found'
  | 'rate_limited'
  | 'database_unavailable'
  | 'internal_error'
  | (string & {});

export interface FieldError {
  path: string;
  message: string;
}

/** Base of every error we answer with on purpose. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra members of the problem document (never secrets or personal data). */
  readonly extra: Record<string, unknown>;
  /** Headers to send with the problem, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    options: { cause?: unknown; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

export class InvalidRequest extends AppError {
  constructor(readonly errors: FieldError[], message = 'The request is not valid.') {
    super('invalid_request', 400, message, { extra: { errors } });
  }
}

export class InvalidJson extends AppError {
  constructor(cause?: unknown) {
    super('invalid_json', 400, 'The request body is not valid JSON.', { cause });
  }
}

export class PayloadTooLarge extends AppError {
  constructor(limit: string) {
    super('payload_too_large', 413, `The request body is larger than ${limit}.`);
  }
}

export class UnsupportedMediaType extends AppError {
  constructor(expected: string) {
    super('unsupported_media_type', 415, `Send the body as ${expected}.`);
  }
}

export class NotFound extends AppError {
  constructor(message = 'There is nothing here.') {
    super('not_found', 404, message);
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'A valid bearer token is required.') {
    super('unauthorized', 401, message, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class Forbidden extends AppError {
  constructor(message = 'This token may not act on that resource.') {
    super('forbidden', 403, message);
  }
}

export class TenantNotFound extends AppError {
  constructor() {
    super('tenant_not_found', 404, 'No tenant has that slug.');
  }
}

export class TenantExists extends AppError {
  constructor() {
    super('tenant_exists', 409, 'A tenant with that slug already exists.');
  }
}

export class TokenNotFound extends AppError {
  constructor() {
    super('token_not_found', 404, 'No token has that id.');
  }
}

export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 429, 'Too many requests; try again later.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class DatabaseUnavailable extends AppError {
  constructor(cause?: unknown) {
    super('database_unavailable', 503, 'The database is unavailable; try again shortly.', {
      cause,
      headers: { 'Retry-After': '5' },
    });
  }
}
