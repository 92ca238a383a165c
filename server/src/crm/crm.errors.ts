import { AppError } from '../errors.js';

// Refusals of the CRM admin API (destinations, deliveries), one code each.

export class DestinationNotFound extends AppError {
  constructor() {
    super('destination_not_found', 404, 'No destination has that id.');
  }
}

export class DeliveryNotFound extends AppError {
  constructor() {
    super('delivery_not_found', 404, 'No delivery has that id.');
  }
}

/** Plain http (or credentials in the URL): refused, except http on loopback when the server allows it for local receivers. */
export class DestinationUrlInsecure extends AppError {
  constructor(message = 'Destination URLs must use https and carry no credentials.') {
    super('destination_url_insecure', 400, message);
  }
}

/** The URL points into a private, loopback, link-local or otherwise internal network (SSRF guard). */
export class DestinationUrlPrivate extends AppError {
  constructor() {
    super('destination_url_private', 400, 'Destination URLs may not point to private, loopback or link-local addresses.');
  }
}

export class DestinationNotWebhook extends AppError {
  constructor() {
    super('destination_not_webhook', 409, 'Only webhook destinations have a signing secret.');
  }
}

export class DestinationDisabled extends AppError {
  constructor() {
    super('destination_disabled', 409, 'The destination is disabled; enable it (PATCH status "active") before replaying.');
  }
}

export class DeliveryPending extends AppError {
  constructor() {
    super('delivery_pending', 409, 'The delivery is still pending; it will be sent without a replay.');
  }
}
