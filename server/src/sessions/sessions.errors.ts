import { AppError } from '../errors.js';

// Each refusal of the widget API has its own code (see shared/STYLE.md, rule 12).

export class OriginNotAllowed extends AppError {
  static readonly code = 'origin_not_allowed';
  static override readonly title = 'Origin not allowed';
  constructor() {
    super(OriginNotAllowed.code, 403, 'This page origin is not registered for the tenant.');
  }
}

export class WidgetNotConfigured extends AppError {
  static readonly code = 'widget_not_configured';
  static override readonly title = 'Widget not configured';
  constructor() {
    super(WidgetNotConfigured.code, 409, 'This tenant has no Cal.com link yet.');
  }
}

export class ConsentInvalid extends AppError {
  static readonly code = 'consent_invalid';
  static override readonly title = 'Consent invalid';
  constructor(message: string) {
    super(ConsentInvalid.code, 400, message);
  }
}

export class SessionMissing extends AppError {
  static readonly code = 'session_missing';
  static override readonly title = 'Session missing';
  constructor() {
    super(SessionMissing.code, 401, 'A widget session token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class SessionInvalid extends AppError {
  static readonly code = 'session_invalid';
  static override readonly title = 'Session invalid';
  constructor(cause?: unknown) {
    super(SessionInvalid.code, 401, 'The widget session token is not valid.', { cause, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  }
}

export class SessionExpired extends AppError {
  static readonly code = 'session_expired';
  static override readonly title = 'Session expired';
  constructor() {
    super(SessionExpired.code, 401, 'The widget session token has expired.', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  }
}

export class SessionWrongTenant extends AppError {
  static readonly code = 'session_wrong_tenant';
  static override readonly title = 'Session of another tenant';
  constructor() {
    super(SessionWrongTenant.code, 403, 'The widget session token was issued for another tenant.');
  }
}

export class SessionWrongOrigin extends AppError {
  static readonly code = 'session_wrong_origin';
  static override readonly title = 'Session of another origin';
  constructor() {
    super(SessionWrongOrigin.code, 403, 'The widget session token is bound to another page origin.');
  }
}

export class SessionScopeMissing extends AppError {
  static readonly code = 'session_scope_missing';
  static override readonly title = 'Session scope missing';
  constructor() {
    super(SessionScopeMissing.code, 403, 'The widget session token does not allow this.');
  }
}

/** A session reported more bookings than a visitor makes (issue 13, finding 3). */
export class ObservedLimitReached extends AppError {
  static readonly code = 'observed_limit_reached';
  static override readonly title = 'Observed bookings limit reached';
  constructor(limit: number) {
    super(ObservedLimitReached.code, 429, `A widget session may report at most ${limit} bookings.`);
  }
}
