// Every visible or announced string, keyed by locale. English ships in widget.js and is the
// fallback and the reference (other locales must define every key, checked by the type);
// other locales are small lazy chunks, loaded only on pages that need them.

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

const table: Record<string, () => Promise<{ default: Strings }>> = {
  de: () => import('./de.js'),
  fr: () => import('./fr.js'),
};

/** Strings for a BCP 47 tag: `de-AT` uses `de`; anything unknown, or a chunk that fails to load, uses English. */
export const loadStrings = async (locale: string | undefined): Promise<Strings> =>
  (await table[(locale ?? '').toLowerCase().split('-')[0]!]?.().catch(() => undefined))?.default ?? en;
