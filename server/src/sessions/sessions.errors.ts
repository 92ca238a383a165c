import { AppError } from '../errors.js';

// Each refusal of the widget API has its own code (see shared/STYLE.md, rule 12).

export class OriginNotAllowed extends AppError {
  constructor() {
    super('origin_not_allowed', 403, 'This page origin is not registered for the tenant.');
  }
}

export class WidgetNotConfigured extends AppError {
  constructor() {
    super('widget_not_configured', 409, 'This tenant has no Cal.com link yet.');
  }
}

export class ConsentInvalid extends AppError {
  constructor(message: string) {
    super('consent_invalid', 400, message);
  }
}

export class SessionMissing extends AppError {
  constructor() {
    super('session_missing', 401, 'A widget session token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class SessionInvalid extends AppError {
  constructor(cause?: unknown) {
    super('session_invalid', 401, 'The widget session token is not valid.', { cause, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  }
}

export class SessionExpired extends AppError {
  constructor() {
    super('session_expired', 401, 'The widget session token has expired.', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  }
}

export class SessionWrongTenant extends AppError {
  constructor() {
    super('session_wrong_tenant', 403, 'The widget session token was issued for another tenant.');
  }
}

export class SessionWrongOrigin extends AppError {
  constructor() {
    super('session_wrong_origin', 403, 'The widget session token is bound to another page origin.');
  }
}

export class SessionScopeMissing extends AppError {
  constructor() {
    super('session_scope_missing', 403, 'The widget session token does not allow this.');
  }
}

/** A session reported more bookings than a visitor makes (issue 13, finding 3). */
export class ObservedLimitReached extends AppError {
  constructor(limit: number) {
    super('observed_limit_reached', 429, `A widget session may report at most ${limit} bookings.`);
  }
}
