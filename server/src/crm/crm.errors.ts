import { AppError } from '../errors.js';

// Refusals of the CRM admin API (destinations, deliveries), one code each.

export class DestinationNotFound extends AppError {
  static readonly code = 'destination_not_found';
  static override readonly title = 'Destination not found';
  constructor() {
    super(DestinationNotFound.code, 404, 'No destination has that id.');
  }
}

export class DeliveryNotFound extends AppError {
  static readonly code = 'delivery_not_found';
  static override readonly title = 'Delivery not found';
  constructor() {
    super(DeliveryNotFound.code, 404, 'No delivery has that id.');
  }
}

/** Plain http (or credentials in the URL): refused, except http on loopback when the server allows it for local receivers. */
export class DestinationUrlInsecure extends AppError {
  static readonly code = 'destination_url_insecure';
  static override readonly title = 'Destination URL not HTTPS';
  constructor(message = 'Destination URLs must use https and carry no credentials.') {
    super(DestinationUrlInsecure.code, 400, message);
  }
}

/** The URL points into a private, loopback, link-local or otherwise internal network (SSRF guard). */
export class DestinationUrlPrivate extends AppError {
  static readonly code = 'destination_url_private';
  static override readonly title = 'Destination URL not public';
  constructor() {
    super(DestinationUrlPrivate.code, 400, 'Destination URLs may not point to private, loopback or link-local addresses.');
  }
}

export class DestinationNotWebhook extends AppError {
  static readonly code = 'destination_not_webhook';
  static override readonly title = 'Destination is not a webhook';
  constructor() {
    super(DestinationNotWebhook.code, 409, 'Only webhook destinations have a signing secret.');
  }
}

export class DestinationDisabled extends AppError {
  static readonly code = 'destination_disabled';
  static override readonly title = 'Destination disabled';
  constructor() {
    super(DestinationDisabled.code, 409, 'The destination is disabled; enable it (PATCH status "active") before replaying.');
  }
}

export class DeliveryPending extends AppError {
  static readonly code = 'delivery_pending';
  static override readonly title = 'Delivery still pending';
  constructor() {
    super(DeliveryPending.code, 409, 'The delivery is still pending; it will be sent without a replay.');
  }
}
