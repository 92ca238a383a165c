import type { ClickIds, UtmParams } from '@calbridge/shared';

// CALBRIDGE_NONCE_METADATA_KEY in @calbridge/shared (importing it would pull zod into the
// chunk; the test checks they agree).
const NONCE_KEY = 'cb_nonce';

/**
 * What links a Cal.com booking back to Calbridge; sent as booking metadata. Everything here is
 * known at the consent click, before the session answer: the frame starts together with the
 * session request, so the session id and receipt id cannot be in the frame's URL. The nonce
 * stands for them (the server keeps its hash with the session and links on it).
 */
export interface BookingLink {
  tenant: string;
  /** The session nonce (`cb_nonce`), made in the browser at the consent click. */
  nonce: string;
  utm: UtmParams;
  clickIds?: ClickIds | undefined;
}

/** Cal.com's metadata limits: at most 50 keys, keys up to 40 characters, values up to 500. */
export const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;

/**
 * Metadata keys we add, with values clipped to Cal.com's limit. The tenant goes under
 * `calbridge_tenant` (CALBRIDGE_TENANT_METADATA_KEY in @calbridge/shared: the webhook intake
 * refuses a delivery naming another tenant, and native bookings use the same key); the rest are
 * short and prefixed `cb_` (at most 9 keys, none over 15 characters). UTM values and click ids
 * are carried too because Cal.com drops its own UTM fields on some paths.
 */
export function bookingMetadata(link: BookingLink): Record<string, string> {
  const m: Record<string, string> = { calbridge_tenant: link.tenant, [NONCE_KEY]: link.nonce };
  for (const [k, v] of Object.entries(link.utm)) if (v) m[`cb_utm_${k}`] = v;
  for (const [k, v] of Object.entries(link.clickIds ?? {})) if (v) m[`cb_${k}`] = v;
  for (const k in m) m[k] = m[k]!.slice(0, METADATA_LIMITS.valueLength);
  return m;
}

/**
 * The embed's `config`: prefill, theme, UTM query parameters and `metadata[key]` entries,
 * which become query parameters of the framed booking page (frame-url.ts, as embed-core does).
 */
export function embedConfig(opts: {
  link: BookingLink;
  name?: string | null | undefined;
  email?: string | null | undefined;
  theme?: string | null | undefined;
}): Record<string, string> {
  const c: Record<string, string> = {};
  if (opts.name) c.name = opts.name;
  if (opts.email) c.email = opts.email;
  if (opts.theme && opts.theme !== 'auto') c.theme = opts.theme;
  for (const [k, v] of Object.entries(opts.link.utm)) if (v) c[`utm_${k}`] = v;
  for (const [k, v] of Object.entries(bookingMetadata(opts.link))) c[`metadata[${k}]`] = v;
  return c;
}
