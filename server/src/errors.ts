/**
 * Every failure the API reports has a stable `code` and one HTTP status. Each capability owns its
 * errors beside its code (`calcom/calcom.errors.ts`, `oauth/oauth.errors.ts`, `webhooks/webhooks.errors.ts`,
 * …); this module keeps the base class and the errors of HTTP itself. Every class names its code
 * statically (`WebhookStale.code`), as jose does, so tests and callers compare with the class, not
 * a string. Routes throw; one middleware (http/problem.ts) writes the answer.
 */

export interface FieldError {
  path: string;
  message: string;
}

/** Base of every error we answer with on purpose. */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra members of the problem document (never secrets or personal data). */
  readonly extra: Record<string, unknown>;
  /** Headers to send with the problem, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;

  constructor(
    code: string,
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
  static readonly code = 'invalid_request';
  constructor(readonly errors: FieldError[], message = 'The request is not valid.') {
    super(InvalidRequest.code, 400, message, { extra: { errors } });
  }
}

export class InvalidJson extends AppError {
  static readonly code = 'invalid_json';
  constructor(cause?: unknown) {
    super(InvalidJson.code, 400, 'The request body is not valid JSON.', { cause });
  }
}

export class PayloadTooLarge extends AppError {
  static readonly code = 'payload_too_large';
  constructor(limit: string) {
    super(PayloadTooLarge.code, 413, `The request body is larger than ${limit}.`);
  }
}

export class UnsupportedMediaType extends AppError {
  static readonly code = 'unsupported_media_type';
  constructor(expected: string) {
    super(UnsupportedMediaType.code, 415, `Send the body as ${expected}.`);
  }
}

export class NotFound extends AppError {
  static readonly code = 'not_found';
  constructor(message = 'There is nothing here.') {
    super(NotFound.code, 404, message);
  }
}

export class Unauthorized extends AppError {
  static readonly code = 'unauthorized';
  constructor(message = 'A valid bearer token is required.') {
    super(Unauthorized.code, 401, message, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class Forbidden extends AppError {
  static readonly code = 'forbidden';
  constructor(message = 'This token may not act on that resource.') {
    super(Forbidden.code, 403, message);
  }
}

export class TenantNotFound extends AppError {
  static readonly code = 'tenant_not_found';
  constructor() {
    super(TenantNotFound.code, 404, 'No tenant has that slug.');
  }
}

export class TenantExists extends AppError {
  static readonly code = 'tenant_exists';
  constructor() {
    super(TenantExists.code, 409, 'A tenant with that slug already exists.');
  }
}

export class TokenNotFound extends AppError {
  static readonly code = 'token_not_found';
  constructor() {
    super(TokenNotFound.code, 404, 'No token has that id.');
  }
}

export class RateLimited extends AppError {
  static readonly code = 'rate_limited';
  constructor(retryAfterSeconds: number) {
    super(RateLimited.code, 429, 'Too many requests; try again later.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class DatabaseUnavailable extends AppError {
  static readonly code = 'database_unavailable';
  constructor(cause?: unknown) {
    super(DatabaseUnavailable.code, 503, 'The database is unavailable; try again shortly.', {
      cause,
      headers: { 'Retry-After': '5' },
    });
  }
}
