// Webhook intake refusals and delivery-log errors, owned by the webhooks capability.
import { AppError } from '../errors.js';

export class WebhookSignatureMissing extends AppError {
  static readonly code = 'signature_missing';
  constructor() {
    super(WebhookSignatureMissing.code, 401, 'The X-Cal-Signature-256 header is missing or malformed.');
  }
}

export class WebhookSignatureInvalid extends AppError {
  static readonly code = 'signature_invalid';
  constructor() {
    super(WebhookSignatureInvalid.code, 401, 'The signature does not match the body for any of this endpoint\'s secrets.');
  }
}

export class WebhookUnsigned extends AppError {
  static readonly code = 'unsigned_delivery';
  constructor() {
    super(WebhookUnsigned.code, 401, 'The delivery is unsigned (no-secret-provided): set the webhook secret in Cal.com.');
  }
}

export class WebhookUnknownTenant extends AppError {
  static readonly code = 'unknown_tenant';
  constructor() {
    super(WebhookUnknownTenant.code, 404, 'No webhook endpoint has that name.');
  }
}

export class WebhookTenantMismatch extends AppError {
  static readonly code = 'tenant_mismatch';
  constructor() {
    super(WebhookTenantMismatch.code, 403, 'The booking metadata names another tenant.');
  }
}

/**
 * 400, not 409: the refusal depends on the request alone (its createdAt is
 * older than the replay window), not on anything stored, and resending it will
 * never succeed.
 */
export class WebhookStale extends AppError {
  static readonly code = 'stale_delivery';
  constructor() {
    super(WebhookStale.code, 400, 'The delivery is older than the replay window.');
  }
}

/** 400: the createdAt is further ahead of our clock than the allowed skew (it could pin a booking's state). */
export class WebhookFuture extends AppError {
  static readonly code = 'future_delivery';
  constructor() {
    super(WebhookFuture.code, 400, 'The delivery is dated in the future, beyond the allowed clock skew.');
  }
}

export class DeliveryNotFound extends AppError {
  static readonly code = 'delivery_not_found';
  constructor() {
    super(DeliveryNotFound.code, 404, 'No delivery-log line has that id.');
  }
}

/** 409: the line records a delivery that was refused or a duplicate, so there is nothing stored to apply. */
export class DeliveryNotStored extends AppError {
  static readonly code = 'delivery_not_stored';
  constructor() {
    super(DeliveryNotStored.code, 409, 'That delivery-log line has no stored delivery (refused, duplicate, or deleted by retention).');
  }
}
