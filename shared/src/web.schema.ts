import { z } from 'zod';

// Identifiers every domain schema uses. Kept apart from tenant.schema.ts so that
// widget.schema.ts and tenant.schema.ts can use each other's parts without an import cycle.

/** A tenant's URL-safe identifier: lower-case letters, digits and inner hyphens, 1–63 characters. */
export const TenantSlug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and inner hyphens, at most 63 characters');
export type TenantSlug = z.infer<typeof TenantSlug>;

/**
 * A web origin exactly as a browser sends it in the `Origin` header:
 * scheme, host and optional port, with no path, query or trailing slash.
 */
export const WebOrigin = z.string().max(2048).refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  },
  { message: 'an origin such as https://www.example.com (scheme and host, no path or trailing slash)' },
);

const MAX_BIGINT = 9223372036854775807n;

/**
 * A cursor that is a position in a PostgreSQL `bigint` sequence: 1–19 digits, never above
 * 2^63 − 1, so an out-of-range cursor is a 400 here and not a database error later.
 */
export const SeqCursor = z
  .string()
  .regex(/^[0-9]{1,19}$/, 'a cursor this API issued')
  // zod runs every check even after the regex failed: BigInt() only sees digits.
  .refine((v) => /^[0-9]{1,19}$/.test(v) && BigInt(v) <= MAX_BIGINT, 'a cursor this API issued');

/** An IANA time zone name known to this runtime, e.g. `Europe/London`. */
export const TimeZone = z.string().max(64).refine(
  (value) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'an IANA time zone such as Europe/London' },
);
