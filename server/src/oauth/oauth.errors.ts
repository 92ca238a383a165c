// OAuth connect failures, shown on an HTML page with their code (server/src/oauth).
import { AppError } from '../errors.js';

/** OAuth callback failures, shown on an HTML page with their code. */
export class OAuthConsentDenied extends AppError {
  static readonly code = 'oauth_consent_denied';
  static override readonly title = 'Cal.com consent denied';
  constructor() {
    super(OAuthConsentDenied.code, 400, 'Access was not granted on Cal.com, so the tenant is not connected.');
  }
}

export class OAuthStateInvalid extends AppError {
  static readonly code = 'oauth_state_invalid';
  static override readonly title = 'OAuth state invalid';
  constructor() {
    super(OAuthStateInvalid.code, 400, 'This sign-in link is not one we issued. Start connecting again from the admin page.');
  }
}

export class OAuthStateExpired extends AppError {
  static readonly code = 'oauth_state_expired';
  static override readonly title = 'OAuth state expired';
  constructor() {
    super(OAuthStateExpired.code, 400, 'This sign-in link has expired. Start connecting again from the admin page.');
  }
}

export class OAuthCodeReplayed extends AppError {
  static readonly code = 'oauth_code_replayed';
  static override readonly title = 'OAuth code replayed';
  constructor() {
    super(OAuthCodeReplayed.code, 400, 'This sign-in response was already used. Start connecting again if the tenant is not connected.');
  }
}

export class OAuthCodeRejected extends AppError {
  static readonly code = 'oauth_code_rejected';
  static override readonly title = 'OAuth code rejected';
  constructor(cause?: unknown) {
    super(OAuthCodeRejected.code, 400, 'Cal.com refused the authorisation code. Start connecting again.', { cause });
  }
}

export class OAuthCallbackInvalid extends AppError {
  static readonly code = 'oauth_callback_invalid';
  static override readonly title = 'OAuth callback invalid';
  constructor() {
    super(OAuthCallbackInvalid.code, 400, 'The sign-in response from Cal.com is incomplete.');
  }
}

/**
 * The callback came from a browser that did not start the flow (no `__Host-calbridge_oauth`
 * cookie, or one for another state): an authorize link sent to someone else must not connect
 * their Cal.com account to the sender's tenant (issue 13, finding 8).
 */
export class OAuthStateBrowserMismatch extends AppError {
  static readonly code = 'oauth_state_browser_mismatch';
  static override readonly title = 'OAuth state from another browser';
  constructor() {
    super(OAuthStateBrowserMismatch.code,
      400,
      'This sign-in response belongs to a connect flow started in another browser. Start connecting again from the admin page, in this browser.',
    );
  }
}

/** RFC 6749 §5.2 error codes (and the ones Cal.com's OAuthService adds) we pass on as they are. */
const CALCOM_TOKEN_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
]);

/**
 * Cal.com's token endpoint refused the exchange with an OAuth error other than `invalid_grant`
 * (that one is {@link OAuthCodeRejected}'s): the page shows Cal.com's own error code, because it
 * names the cause (a client secret Cal.com does not know, a client not yet approved, a request
 * Cal.com thinks malformed) where "Cal.com unavailable" would hide it.
 */
export class OAuthTokenRefused extends AppError {
  /** One code per OAuth error Cal.com may answer (`calcom_oauth_invalid_client`, …), and `calcom_oauth_unknown_error` for any other. */
  static readonly codes: readonly string[] = [...CALCOM_TOKEN_ERRORS, 'unknown_error'].map((e) => `calcom_oauth_${e}`);
  static override readonly title = 'Cal.com refused to issue tokens';
  constructor(calcomError: string, calcomDescription: string | undefined, cause?: unknown) {
    const error = CALCOM_TOKEN_ERRORS.has(calcomError) ? calcomError : 'unknown_error';
    // Cal.com's descriptions are short reason words (e.g. `invalid_client_credentials`); anything else is dropped.
    const reason = calcomDescription && /^[\w ,.'-]{1,200}$/.test(calcomDescription) ? calcomDescription : undefined;
    super(
      `calcom_oauth_${error}`,
      error === 'invalid_client' || error === 'unauthorized_client' ? 502 : 400,
      `Cal.com refused to issue tokens: ${error}${reason ? ` (${reason})` : ''}.`,
      { cause, extra: { calcomError: error, ...(reason ? { calcomErrorDescription: reason } : {}) } },
    );
  }
}
