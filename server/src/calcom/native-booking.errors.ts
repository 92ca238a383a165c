import { AppError } from '../errors.js';

// Caps on native booking (issue 13, finding 3): one session or one address cannot fill a
// calendar, and one booking cannot invite a crowd. Each refusal has its own code.

export class NativeSessionLimit extends AppError {
  static readonly code = 'native_session_limit';
  static override readonly title = 'Booking limit of this session reached';
  constructor(limit: number) {
    super(NativeSessionLimit.code, 429, `A widget session may make at most ${limit} bookings.`);
  }
}

export class NativeAddressLimit extends AppError {
  static readonly code = 'native_address_limit';
  static override readonly title = 'Booking limit of this address reached';
  constructor(retryAfterSeconds: number) {
    super(NativeAddressLimit.code, 429, 'Too many bookings from this network address; try again later.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class TooManyGuests extends AppError {
  static readonly code = 'too_many_guests';
  static override readonly title = 'Too many guests';
  constructor(limit: number) {
    super(TooManyGuests.code, 400, `A booking may invite at most ${limit} guests.`);
  }
}
