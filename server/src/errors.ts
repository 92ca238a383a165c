/**
 * Every failure the API reports has a stable `code` and one HTTP status. Each capability owns its
 * errors beside its code (`calcom/calcom.errors.ts`, `oauth/oauth.errors.ts`, `tenants/tenants.errors.ts`,
 * …); this module keeps the base class and the errors of HTTP itself. Every class names its code
 * statically (`WebhookStale.code`), as jose does, so tests and callers compare with the class, not
 * a string, and its problem `title` statically too: the same for every instance of the type, while
 * `detail` is the instance's message. Routes throw; one middleware (http/problem.ts) writes the answer.
 */
import { STATUS_CODES } from 'node:http';

export interface FieldError {
  path: string;
  message: string;
}

/** Base of every error we answer with on purpose. */
export class AppError extends Error {
  /**
   * The problem type's short summary (RFC 9457 `title`), one per class; a class that names none
   * answers with its HTTP status phrase. What happened this time is the message (`detail`).
   */
  static readonly title: string | undefined = undefined;
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

  /** The problem `title`: the class's, so it never varies with the instance. */
  get title(): string {
    return (this.constructor as typeof AppError).title ?? STATUS_CODES[this.status] ?? 'Error';
  }
}

export class InvalidRequest extends AppError {
  static readonly code = 'invalid_request';
  static override readonly title = 'Invalid request';
  constructor(readonly errors: FieldError[], message = 'The request is not valid.', cause?: unknown) {
    super(InvalidRequest.code, 400, message, { extra: { errors }, cause });
  }
}

export class InvalidJson extends AppError {
  static readonly code = 'invalid_json';
  static override readonly title = 'Invalid JSON';
  constructor(cause?: unknown) {
    super(InvalidJson.code, 400, 'The request body is not valid JSON.', { cause });
  }
}

export class PayloadTooLarge extends AppError {
  static readonly code = 'payload_too_large';
  static override readonly title = 'Payload too large';
  constructor(limit: string) {
    super(PayloadTooLarge.code, 413, `The request body is larger than ${limit}.`);
  }
}

export class UnsupportedMediaType extends AppError {
  static readonly code = 'unsupported_media_type';
  static override readonly title = 'Unsupported media type';
  constructor(expected: string) {
    super(UnsupportedMediaType.code, 415, `Send the body as ${expected}.`);
  }
}

export class NotFound extends AppError {
  static readonly code = 'not_found';
  static override readonly title = 'Not found';
  constructor(message = 'There is nothing here.') {
    super(NotFound.code, 404, message);
  }
}

export class Unauthorized extends AppError {
  static readonly code = 'unauthorized';
  static override readonly title = 'Unauthorized';
  constructor(message = 'A valid bearer token is required.') {
    super(Unauthorized.code, 401, message, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class Forbidden extends AppError {
  static readonly code = 'forbidden';
  static override readonly title = 'Forbidden';
  constructor(message = 'This token may not act on that resource.') {
    super(Forbidden.code, 403, message);
  }
}

export class RateLimited extends AppError {
  static readonly code = 'rate_limited';
  static override readonly title = 'Too many requests';
  constructor(retryAfterSeconds: number) {
    super(RateLimited.code, 429, 'Too many requests; try again later.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class DatabaseUnavailable extends AppError {
  static readonly code = 'database_unavailable';
  static override readonly title = 'Database unavailable';
  constructor(cause?: unknown) {
    super(DatabaseUnavailable.code, 503, 'The database is unavailable; try again shortly.', {
      cause,
      headers: { 'Retry-After': '5' },
    });
  }
}

/** Anything we did not answer on purpose: logged, and answered without its message or stack. */
export class InternalError extends AppError {
  static readonly code = 'internal_error';
  static override readonly title = 'Internal error';
  constructor(cause?: unknown) {
    super(InternalError.code, 500, 'Something went wrong on our side; it has been logged.', { cause });
  }
}
