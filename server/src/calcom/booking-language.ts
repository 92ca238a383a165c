/**
 * Cal.com's `BookingLanguage` enum, copied from
 * packages/platform/types/bookings/2024-08-13/inputs/language.ts. `POST /v2/bookings` validates
 * `attendee.language` with `@IsEnum(BookingLanguage)` (create-booking.input.ts): any other value is a
 * 400 and no booking. Update this list when Cal.com's changes.
 */
export const CALCOM_BOOKING_LANGUAGES = [
  'ar', 'ca', 'de', 'es', 'eu', 'he', 'id', 'ja', 'lv', 'pl', 'ro', 'sr', 'th', 'vi', 'az', 'cs', 'el', 'es-419',
  'fi', 'hr', 'it', 'km', 'nl', 'pt', 'ru', 'sv', 'tr', 'zh-CN', 'bg', 'da', 'en', 'et', 'fr', 'hu', 'iw', 'ko',
  'no', 'pt-BR', 'sk', 'ta', 'uk', 'zh-TW', 'bn',
] as const;
export type CalcomBookingLanguage = (typeof CALCOM_BOOKING_LANGUAGES)[number];

const BY_LOWER = new Map<string, CalcomBookingLanguage>(CALCOM_BOOKING_LANGUAGES.map((l) => [l.toLowerCase(), l]));

/**
 * The Cal.com language for a page's language tag, or undefined when Cal.com has none (then we send no
 * language and Cal.com uses its default). Exact match first, case-insensitively (`pt-br` → `pt-BR`),
 * then the primary subtag (`en-GB` → `en`, `de-AT` → `de`); `nb`/`nn` → `no`.
 */
export function toCalcomBookingLanguage(tag: string | undefined): CalcomBookingLanguage | undefined {
  if (!tag) return undefined;
  const lower = tag.trim().toLowerCase();
  const exact = BY_LOWER.get(lower);
  if (exact) return exact;
  const primary = lower.split('-')[0]!;
  if (primary === 'nb' || primary === 'nn') return 'no';
  return BY_LOWER.get(primary);
}
