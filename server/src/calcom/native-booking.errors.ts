import { AppError } from '../errors.js';

// Caps on native booking (issue 13, finding 3): one session or one address cannot fill a
// calendar, and one booking cannot invite a crowd. Each refusal has its own code.

export class NativeSessionLimit extends AppError {
  constructor(limit: number) {
    super('native_session_limit', 429, `A widget session may make at most ${limit} bookings.`);
  }
}

export class NativeAddressLimit extends AppError {
  constructor(retryAfterSeconds: number) {
    super('native_address_limit', 429, 'Too many bookings from this network address; try again later.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class TooManyGuests extends AppError {
  constructor(limit: number) {
    super('too_many_guests', 400, `A booking may invite at most ${limit} guests.`);
  }
}
