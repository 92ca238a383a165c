// English: shipped in widget.js, the fallback and the reference. Other locales are typed by
// `Strings`, so each must define every key. In its own module so locale chunks depend on it
// alone, not on the loader that imports them (no import cycle).

export const en = {
  book: 'Book a call',
  close: 'Close',
  frameTitle: 'Booking calendar',
  consentLegend: 'Before the calendar loads',
  required: 'required',
  optional: 'optional',
  policy: 'Privacy policy',
  policyNewTab: '(opens in a new tab)',
  agree: 'Agree and show calendar',
  loading: 'Loading the calendar…',
  booked: 'Your booking is confirmed.',
  retry: 'Try again',
  fallback: 'Open the booking page',
  network_error: 'The booking service is unreachable.',
  tenant_not_found: 'This booking page is not available.',
  rate_limited: 'Too many attempts. Please wait a moment.',
  frame: 'The calendar did not load.',
  error: 'Something went wrong.',
};

export type Strings = typeof en;
