// Calendar arithmetic for the slot picker. Days are `YYYY-MM-DD` strings in the visitor's time
// zone; arithmetic runs on them as UTC dates, so daylight-saving changes never shift a day.
// The part the session request needs (the first page's window) is in first-page.ts.
import { addDays, PAGE_DAYS, weekStart } from './first-page.js';

export { addDays, browserZone, firstPageQuery, PAGE_DAYS, pageWindow, slotsQuery, today, weekday, weekStart } from './first-page.js';

const toDate = (day: string): Date => new Date(`${day}T00:00:00Z`);

/**
 * Formatters by locale and options, made once: making one costs far more than using it, and one
 * render of the picker formats some seventy days (labels, headers, the range).
 */
const formats = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(opts)}`;
  let f = formats.get(key);
  if (!f) formats.set(key, (f = new Intl.DateTimeFormat(locale, opts)));
  return f;
}

/** The 28 days of the page starting at `start` (a Monday). */
export const pageDays = (start: string): string[] => Array.from({ length: PAGE_DAYS }, (_, i) => addDays(start, i));

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
  formatter(locale, { ...opts, timeZone: 'UTC' }).format(toDate(day));

/** Formats an instant's time of day in `timeZone`. */
export const formatTime = (iso: string, locale: string, timeZone: string): string =>
  formatter(locale, { hour: 'numeric', minute: '2-digit', timeZone }).format(new Date(iso));

/** IANA zones this browser knows, with `current` guaranteed among them. */
let zones: string[] | undefined;
export function timeZones(current: string): string[] {
  // Asked once: the list does not change while the page lives, and asking takes milliseconds.
  const all = (zones ??= (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? []);
  return all.includes(current) ? all : [current, ...all];
}
