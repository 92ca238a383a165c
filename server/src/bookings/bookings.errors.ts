// Booking record errors, owned by the bookings capability.
import { AppError } from '../errors.js';

export class BookingNotFound extends AppError {
  static readonly code = 'booking_not_found';
  static override readonly title = 'Booking not found';
  constructor() {
    super(BookingNotFound.code, 404, 'No booking has that uid.');
  }
}
