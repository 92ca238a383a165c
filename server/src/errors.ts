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
  | 'signature_missing'
  | 'signature_invalid'
  | 'unsigned_delivery'
  | 'unknown_tenant'
  | 'tenant_mismatch'
  | 'stale_delivery'
  | 'future_delivery'
  | 'delivery_not_found'
  | 'delivery_not_stored'
  | 'booking_not_found'
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

// --- Cal.com connections (server/src/calcom, server/src/oauth) ---

/** Cal.com answered in a way we can act on, kept as `cause` (never its tokens). */
export interface CalcomFailure {
  /** HTTP status from Cal.com, or null when no answer came (network, timeout). */
  status: number | null;
  /** The operation, e.g. `POST /v2/bookings` (path template, no ids or query). */
  operation: string;
  /** Cal.com's own error code and message, tokens scrubbed. */
  calcomCode?: string;
  calcomMessage?: string;
}

/** Base of errors about talking to Cal.com; `cause` carries a {@link CalcomFailure}-shaped Error. */
export class CalcomError extends AppError {}

export class CalcomRejected extends CalcomError {
  constructor(cause: unknown) {
    super('calcom_rejected', 422, 'Cal.com refused the request.', { cause });
  }
}

export class CalcomNotFound extends CalcomError {
  constructor(cause: unknown) {
    super('calcom_not_found', 404, 'Cal.com has no such resource.', { cause });
  }
}

export class CalcomUnauthorized extends CalcomError {
  constructor(cause: unknown) {
    super('calcom_unauthorized', 502, 'Cal.com did not accept our credentials for this tenant.', { cause });
  }
}

export class CalcomRateLimited extends CalcomError {
  constructor(retryAfterSeconds: number, cause: unknown) {
    super('calcom_rate_limited', 503, 'Cal.com is rate limiting us; try again later.', {
      cause,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class CalcomUnavailable extends CalcomError {
  constructor(cause: unknown) {
    super('calcom_unavailable', 502, 'Cal.com is not answering properly; try again shortly.', { cause, headers: { 'Retry-After': '5' } });
  }
}

export class CalcomTimeout extends CalcomError {
  constructor(cause: unknown) {
    super('calcom_timeout', 504, 'Cal.com did not answer in time.', { cause });
  }
}

export class CalcomBadResponse extends CalcomError {
  constructor(cause: unknown) {
    super('calcom_bad_response', 502, 'Cal.com answered with something we do not understand.', { cause });
  }
}

export class CalcomNotConnected extends AppError {
  constructor() {
    super('calcom_not_connected', 409, 'This tenant is not connected to Cal.com.');
  }
}

export class CalcomAlreadyConnected extends AppError {
  constructor() {
    super('calcom_already_connected', 409, 'This tenant is already connected to Cal.com; disconnect it first.');
  }
}

/** The stored refresh token was refused: an admin must connect the tenant again. */
export class CalcomNeedsReauth extends AppError {
  constructor(cause?: unknown) {
    super('calcom_needs_reauth', 409, 'The Cal.com connection of this tenant must be authorised again.', { cause });
  }
}

export class CalcomNotConfigured extends AppError {
  constructor(what: 'oauth' | 'platform') {
    super(
      `calcom_${what}_not_configured`,
      503,
      what === 'oauth'
        ? 'Cal.com OAuth is not configured (CALCOM_OAUTH_CLIENT_ID / CALCOM_OAUTH_CLIENT_SECRET).'
        : 'The Cal.com platform client is not configured (CALCOM_PLATFORM_CLIENT_ID / CALCOM_PLATFORM_CLIENT_SECRET).',
    );
  }
}

/** OAuth callback failures, shown on an HTML page with their code. */
export class OAuthConsentDenied extends AppError {
  constructor() {
    super('oauth_consent_denied', 400, 'Access was not granted on Cal.com, so the tenant is not connected.');
  }
}

export class OAuthStateInvalid extends AppError {
  constructor() {
    super('oauth_state_invalid', 400, 'This sign-in link is not one we issued. Start connecting again from the admin page.');
  }
}

export class OAuthStateExpired extends AppError {
  constructor() {
    super('oauth_state_expired', 400, 'This sign-in link has expired. Start connecting again from the admin page.');
  }
}

export class OAuthCodeReplayed extends AppError {
  constructor() {
    super('oauth_code_replayed', 400, 'This sign-in response was already used. Start connecting again if the tenant is not connected.');
  }
}

export class OAuthCodeRejected extends AppError {
  constructor(cause?: unknown) {
    super('oauth_code_rejected', 400, 'Cal.com refused the authorisation code. Start connecting again.', { cause });
  }
}

export class OAuthCallbackInvalid extends AppError {
  constructor() {
    super('oauth_callback_invalid', 400, 'The sign-in response from Cal.com is incomplete.');
  }
}

export class IdempotencyKeyRequired extends AppError {
  constructor() {
    super('idempotency_key_required', 400, 'Send an Idempotency-Key header (8–128 characters of A–Z, a–z, 0–9, "-", "_", ".", ":").');
  }
}

export class IdempotencyKeyReused extends AppError {
  constructor() {
    super('idempotency_key_reused', 422, 'This Idempotency-Key was already used for a different request.');
  }
}

// Webhook intake (server/src/webhooks). Each refusal has its own code; none
// says more than needed (an unknown tenant and a bad signature cost the same).

export class WebhookSignatureMissing extends AppError {
  constructor() {
    super('signature_missing', 401, 'The X-Cal-Signature-256 header is missing or malformed.');
  }
}

export class WebhookSignatureInvalid extends AppError {
  constructor() {
    super('signature_invalid', 401, 'The signature does not match the body for any of this endpoint\'s secrets.');
  }
}

export class WebhookUnsigned extends AppError {
  constructor() {
    super('unsigned_delivery', 401, 'The delivery is unsigned (no-secret-provided): set the webhook secret in Cal.com.');
  }
}

export class WebhookUnknownTenant extends AppError {
  constructor() {
    super('unknown_tenant', 404, 'No webhook endpoint has that name.');
  }
}

export class WebhookTenantMismatch extends AppError {
  constructor() {
    super('tenant_mismatch', 403, 'The booking metadata names another tenant.');
  }
}

/**
 * 400, not 409: the refusal depends on the request alone (its createdAt is
 * older than the replay window), not on anything stored, and resending it will
 * never succeed.
 */
export class WebhookStale extends AppError {
  constructor() {
    super('stale_delivery', 400, 'The delivery is older than the replay window.');
  }
}

/** 400: the createdAt is further ahead of our clock than the allowed skew (it could pin a booking's state). */
export class WebhookFuture extends AppError {
  constructor() {
    super('future_delivery', 400, 'The delivery is dated in the future, beyond the allowed clock skew.');
  }
}

export class DeliveryNotFound extends AppError {
  constructor() {
    super('delivery_not_found', 404, 'No delivery-log line has that id.');
  }
}

/** 409: the line records a delivery that was refused or a duplicate, so there is nothing stored to apply. */
export class DeliveryNotStored extends AppError {
  constructor() {
    super('delivery_not_stored', 409, 'That delivery-log line has no stored delivery (refused, duplicate, or deleted by retention).');
  }
}

export class BookingNotFound extends AppError {
  constructor() {
    super('booking_not_found', 404, 'No booking has that uid.');
  }
}
