// Failures of talking to Cal.com and of Cal.com connections, owned by the calcom capability.
import { AppError } from '../errors.js';

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
  static readonly code = 'calcom_rejected';
  static override readonly title = 'Cal.com rejected the request';
  constructor(cause: unknown) {
    super(CalcomRejected.code, 422, 'Cal.com refused the request.', { cause });
  }
}

export class CalcomNotFound extends CalcomError {
  static readonly code = 'calcom_not_found';
  static override readonly title = 'Not found at Cal.com';
  constructor(cause: unknown) {
    super(CalcomNotFound.code, 404, 'Cal.com has no such resource.', { cause });
  }
}

export class CalcomUnauthorized extends CalcomError {
  static readonly code = 'calcom_unauthorized';
  static override readonly title = 'Cal.com refused our credentials';
  constructor(cause: unknown) {
    super(CalcomUnauthorized.code, 502, 'Cal.com did not accept our credentials for this tenant.', { cause });
  }
}

export class CalcomRateLimited extends CalcomError {
  static readonly code = 'calcom_rate_limited';
  static override readonly title = 'Cal.com rate limit reached';
  /** When Cal.com takes calls again, as its reset header said (reconciliation reschedules to it). */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, cause: unknown) {
    super(CalcomRateLimited.code, 503, 'Cal.com is rate limiting us; try again later.', {
      cause,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Our shared budget of a Cal.com tracker counted across tenants (token refreshes: decision 0030) is
 * spent for now, and the tenant's access token cannot wait: no call is made, so none can be refused
 * and lengthen a block. Retry-After says when the budget has room again.
 */
export class CalcomRefreshBudgetSpent extends CalcomError {
  static readonly code = 'calcom_refresh_budget_spent';
  static override readonly title = 'Cal.com token refresh budget spent';
  /** When the budget has room again. */
  readonly until: Date;
  constructor(until: Date, now: Date) {
    const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
    super(CalcomRefreshBudgetSpent.code, 503, "Cal.com's limit on token refreshes is reached for now; try again later.", {
      headers: { 'Retry-After': String(seconds) },
    });
    this.until = until;
  }
}

export class CalcomUnavailable extends CalcomError {
  static readonly code = 'calcom_unavailable';
  static override readonly title = 'Cal.com unavailable';
  constructor(cause: unknown) {
    super(CalcomUnavailable.code, 502, 'Cal.com is not answering properly; try again shortly.', { cause, headers: { 'Retry-After': '5' } });
  }
}

export class CalcomTimeout extends CalcomError {
  static readonly code = 'calcom_timeout';
  static override readonly title = 'Cal.com did not answer in time';
  constructor(cause: unknown) {
    super(CalcomTimeout.code, 504, 'Cal.com did not answer in time.', { cause });
  }
}

export class CalcomBadResponse extends CalcomError {
  static readonly code = 'calcom_bad_response';
  static override readonly title = 'Unexpected answer from Cal.com';
  constructor(cause: unknown) {
    super(CalcomBadResponse.code, 502, 'Cal.com answered with something we do not understand.', { cause });
  }
}

export class CalcomNotConnected extends AppError {
  static readonly code = 'calcom_not_connected';
  static override readonly title = 'Not connected to Cal.com';
  constructor() {
    super(CalcomNotConnected.code, 409, 'This tenant is not connected to Cal.com.');
  }
}

export class CalcomAlreadyConnected extends AppError {
  static readonly code = 'calcom_already_connected';
  static override readonly title = 'Already connected to Cal.com';
  constructor() {
    super(CalcomAlreadyConnected.code, 409, 'This tenant is already connected to Cal.com; disconnect it first.');
  }
}

/**
 * The Cal.com account is held by another tenant's live connection. Cal.com keeps one refresh token
 * per OAuth client and user (OAuthRefreshTokenRepository.rotateTokenForUser deletes the others), and
 * a user's bookings and webhook cannot be split between tenants: one account, one tenant (decision
 * 0034). The message never says which tenant holds it.
 */
export class CalcomAccountInUse extends AppError {
  static readonly code = 'calcom_account_in_use';
  static override readonly title = 'Cal.com account already in use';
  constructor() {
    super(
      CalcomAccountInUse.code,
      409,
      'This Cal.com account is already connected to another site in Calbridge. Disconnect it there first, or sign in to Cal.com with another account.',
    );
  }
}

/** The stored refresh token was refused: an admin must connect the tenant again. */
export class CalcomNeedsReauth extends AppError {
  static readonly code = 'calcom_needs_reauth';
  static override readonly title = 'Cal.com connection needs reauthorisation';
  constructor(cause?: unknown) {
    super(CalcomNeedsReauth.code, 409, 'The Cal.com connection of this tenant must be authorised again.', { cause });
  }
}

export class CalcomOAuthNotConfigured extends AppError {
  static readonly code = 'calcom_oauth_not_configured';
  static override readonly title = 'Cal.com OAuth not configured';
  constructor() {
    super(CalcomOAuthNotConfigured.code, 503, 'Cal.com OAuth is not configured (CALCOM_OAUTH_CLIENT_ID / CALCOM_OAUTH_CLIENT_SECRET).');
  }
}

export class CalcomPlatformNotConfigured extends AppError {
  static readonly code = 'calcom_platform_not_configured';
  static override readonly title = 'Cal.com platform client not configured';
  constructor() {
    super(CalcomPlatformNotConfigured.code, 503, 'The Cal.com platform client is not configured (CALCOM_PLATFORM_CLIENT_ID / CALCOM_PLATFORM_CLIENT_SECRET).');
  }
}

export class IdempotencyKeyRequired extends AppError {
  static readonly code = 'idempotency_key_required';
  static override readonly title = 'Idempotency key required';
  constructor() {
    super(IdempotencyKeyRequired.code, 400, 'Send an Idempotency-Key header (8–128 characters of A–Z, a–z, 0–9, "-", "_", ".", ":").');
  }
}

export class IdempotencyKeyReused extends AppError {
  static readonly code = 'idempotency_key_reused';
  static override readonly title = 'Idempotency key reused';
  constructor() {
    super(IdempotencyKeyReused.code, 422, 'This Idempotency-Key was already used for a different request.');
  }
}

// Webhook intake (server/src/webhooks). Each refusal has its own code; none
// says more than needed (an unknown tenant and a bad signature cost the same).
