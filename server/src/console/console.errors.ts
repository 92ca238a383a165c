import { AppError } from '../errors.js';

/** No identity provider is configured (`CALBRIDGE_OIDC_ISSUER` unset): the console has no sign-in. */
export class ConsoleNotConfigured extends AppError {
  constructor() {
    super('console_not_configured', 404, 'The admin console has no identity provider configured (CALBRIDGE_OIDC_ISSUER).');
  }
}

/** The identity provider could not be reached or answered something unusable. */
export class IdentityProviderUnavailable extends AppError {
  constructor(cause?: unknown) {
    super('identity_provider_unavailable', 502, 'The identity provider could not be reached; try again.', { cause });
  }
}

/** The sign-in answer did not match the sign-in this browser started (state, nonce, PKCE, or no transaction). */
export class SignInFailed extends AppError {
  constructor(cause?: unknown) {
    super('sign_in_failed', 400, 'The sign-in could not be completed; start it again.', { cause });
  }
}

/** The person signed in but holds no Calbridge role. */
export class NoConsoleRole extends AppError {
  constructor() {
    super('no_console_role', 403, 'Your account has no Calbridge role; ask an administrator for one.');
  }
}

/** A state-changing console request without the right Origin or CSRF token. */
export class CsrfRejected extends AppError {
  constructor(message = 'This request did not come from the console.') {
    super('csrf_rejected', 403, message);
  }
}
