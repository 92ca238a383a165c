// Calendar arithmetic for the slot picker. Days are `YYYY-MM-DD` strings in the visitor's time
// zone; arithmetic runs on them as UTC dates, so daylight-saving changes never shift a day.

/** Days shown per page: four weeks, Monday first. */
export const PAGE_DAYS = 28;

const toDate = (day: string): Date => new Date(`${day}T00:00:00Z`);
const toDay = (d: Date): string => d.toISOString().slice(0, 10);

/** `day` moved by `n` days. */
export const addDays = (day: string, n: number): string => toDay(new Date(toDate(day).getTime() + n * 86_400_000));

/** Monday (0) … Sunday (6). */
export const weekday = (day: string): number => (toDate(day).getUTCDay() + 6) % 7;

/** The Monday of `day`'s week. */
export const weekStart = (day: string): string => addDays(day, -weekday(day));

/** Today in `timeZone`. */
export function today(timeZone: string, now = new Date()): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now).map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}`;
}

/** The 28 days of the page starting at `start` (a Monday). */
export const pageDays = (start: string): string[] => Array.from({ length: PAGE_DAYS }, (_, i) => addDays(start, i));

/**
 * The slots query window for a page: a day of margin either side, because the server groups
 * slots by day in the visitor's time zone and a zone can be up to 14 hours from UTC.
 */
export const pageWindow = (start: string): { start: string; end: string } => ({
  start: `${addDays(start, -1)}T00:00:00Z`,
  end: `${addDays(start, PAGE_DAYS + 1)}T00:00:00Z`,
});

/** Where a key press moves focus in the day grid, or null for keys the grid does not handle. */
export function moveFocus(day: string, key: string): string | null {
  switch (key) {
    case 'ArrowLeft':
      return addDays(day, -1);
    case 'ArrowRight':
      return addDays(day, 1);
    case 'ArrowUp':
      return addDays(day, -7);
    case 'ArrowDown':
      return addDays(day, 7);
    case 'Home':
      return weekStart(day);
    case 'End':
      return addDays(weekStart(day), 6);
    case 'PageUp':
      return addDays(day, -PAGE_DAYS);
    case 'PageDown':
      return addDays(day, PAGE_DAYS);
    default:
      return null;
  }
}

/** Formats a calendar day (in no particular zone) for people. */
export const formatDay = (day: string, locale: string, opts: Intl.DateTimeFormatOptions): string =>
  new Intl.DateTimeFormat(locale, { ...opts, timeZone: 'UTC' }).format(toDate(day));

/** Formats an instant's time of day in `timeZone`. */
export const formatTime = (iso: string, locale: string, timeZone: string): string =>
  new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone }).format(new Date(iso));

/** IANA zones this browser knows, with `current` guaranteed among them. */
export function timeZones(current: string): string[] {
  const all = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return all.includes(current) ? all : [current, ...all];
}
