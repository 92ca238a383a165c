// The first page of native mode's picker: today's week in the browser's time zone, as the
// slots query names it. Apart from calendar.ts because the consent step's chunk needs it too
// (the session request names the page: decision 0027) and should carry no more than this.
import type { SlotsQuery } from '@calbridge/shared';

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

/** The formatter `today` reads a zone's date with, made once per zone. */
const dates = new Map<string, Intl.DateTimeFormat>();

/** Today in `timeZone`. */
export function today(timeZone: string, now = new Date()): string {
  let f = dates.get(timeZone);
  if (!f) dates.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const p = Object.fromEntries(f.formatToParts(now).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/**
 * The slots query window for a page: a day of margin either side, because the server groups
 * slots by day in the visitor's time zone and a zone can be up to 14 hours from UTC.
 */
export const pageWindow = (start: string): { start: string; end: string } => ({
  start: `${addDays(start, -1)}T00:00:00Z`,
  end: `${addDays(start, PAGE_DAYS + 1)}T00:00:00Z`,
});

let zone: string | undefined;
/** The browser's time zone: the picker's until the visitor picks another (read once per page). */
export const browserZone = (): string => (zone ??= Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');

/**
 * Does now what the consent click would otherwise pay for: the page's first use of `Intl`'s date
 * formatting loads its data (~25 ms measured on the bench machine), which would delay the session
 * request. Native mode calls it while the visitor reads the consent step (decision 0027).
 */
export const warmFirstPage = (): void => void today(browserZone());

/** What the picker asks for a page: the days from `start`, in `timeZone`. */
export const slotsQuery = (eventType: string, start: string, timeZone: string): SlotsQuery => ({ eventType, ...pageWindow(start), timeZone });

/**
 * The page a new picker shows first: today's week in the browser's time zone. The session
 * request names it (decision 0027), so this is also in the consent step's chunk.
 */
export const firstPageQuery = (eventType: string): SlotsQuery => slotsQuery(eventType, weekStart(today(browserZone())), browserZone());

