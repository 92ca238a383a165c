import { AppError } from '../errors.js';

/** No identity provider is configured (`CALBRIDGE_OIDC_ISSUER` unset): the console has no sign-in. */
export class ConsoleNotConfigured extends AppError {
  static readonly code = 'console_not_configured';
  static override readonly title = 'Console not configured';
  constructor() {
    super(ConsoleNotConfigured.code, 404, 'The admin console has no identity provider configured (CALBRIDGE_OIDC_ISSUER).');
  }
}

/** The identity provider could not be reached or answered something unusable. */
export class IdentityProviderUnavailable extends AppError {
  static readonly code = 'identity_provider_unavailable';
  static override readonly title = 'Identity provider unavailable';
  constructor(cause?: unknown) {
    super(IdentityProviderUnavailable.code, 502, 'The identity provider could not be reached; try again.', { cause });
  }
}

/** The sign-in answer did not match the sign-in this browser started (state, nonce, PKCE, or no transaction). */
export class SignInFailed extends AppError {
  static readonly code = 'sign_in_failed';
  static override readonly title = 'Sign-in failed';
  constructor(cause?: unknown) {
    super(SignInFailed.code, 400, 'The sign-in could not be completed; start it again.', { cause });
  }
}

/** The person signed in but holds no Calbridge role. */
export class NoConsoleRole extends AppError {
  static readonly code = 'no_console_role';
  static override readonly title = 'No console role';
  constructor() {
    super(NoConsoleRole.code, 403, 'Your account has no Calbridge role; ask an administrator for one.');
  }
}

/** A state-changing console request without the right Origin or CSRF token. */
export class CsrfRejected extends AppError {
  static readonly code = 'csrf_rejected';
  static override readonly title = 'CSRF check failed';
  constructor(message = 'This request did not come from the console.') {
    super(CsrfRejected.code, 403, message);
  }
}
