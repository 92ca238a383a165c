import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CALCOM_BOOKING_LANGUAGES, toCalcomBookingLanguage } from './booking-language.js';

const { vectors } = JSON.parse(readFileSync(new URL('../../../test/fixtures/calcom/booking-language-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Array<{ page: string; calcom: string | null }>;
};

describe("a page's language as Cal.com's BookingLanguage", () => {
  it.each(vectors)('when the page says "$page", then Cal.com gets $calcom', ({ page, calcom }) => {
    expect(toCalcomBookingLanguage(page) ?? null).toBe(calcom);
  });

  it('when a language is sent, then it is always one of the enum values', () => {
    for (const v of vectors) {
      const out = toCalcomBookingLanguage(v.page);
      if (out) expect(CALCOM_BOOKING_LANGUAGES).toContain(out);
    }
  });
});
