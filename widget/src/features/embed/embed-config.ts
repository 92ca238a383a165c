import type { UtmParams } from '@calbridge/shared';

/** What links a Cal.com booking back to Calbridge; sent as booking metadata. */
export interface BookingLink {
  tenant: string;
  sessionId: string;
  consentReceiptId: string;
  utm: UtmParams;
}

/** Cal.com's metadata limits: at most 50 keys, keys up to 40 characters, values up to 500. */
export const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;

/**
 * Metadata keys we add, with values clipped to Cal.com's limit. The tenant goes under
 * `calbridge_tenant` (CALBRIDGE_TENANT_METADATA_KEY in @calbridge/shared: the webhook intake
 * refuses a delivery naming another tenant, and native bookings use the same key); the rest are
 * short and prefixed `cb_`. UTM values are carried too because Cal.com drops its own UTM fields on some paths.
 */
export function bookingMetadata(link: BookingLink): Record<string, string> {
  const m: Record<string, string> = {
    calbridge_tenant: link.tenant,
    cb_session: link.sessionId,
    cb_receipt: link.consentReceiptId,
  };
  for (const [k, v] of Object.entries(link.utm)) if (v) m[`cb_utm_${k}`] = v;
  for (const k in m) m[k] = m[k]!.slice(0, METADATA_LIMITS.valueLength);
  return m;
}

/**
 * The embed's `config`: prefill, theme, UTM query parameters and `metadata[key]` entries,
 * which embed-core turns into query parameters of the framed booking page.
 */
export function embedConfig(opts: {
  link: BookingLink;
  name?: string | null;
  email?: string | null;
  theme?: string | null;
}): Record<string, string> {
  const c: Record<string, string> = {};
  if (opts.name) c.name = opts.name;
  if (opts.email) c.email = opts.email;
  if (opts.theme && opts.theme !== 'auto') c.theme = opts.theme;
  for (const [k, v] of Object.entries(opts.link.utm)) if (v) c[`utm_${k}`] = v;
  for (const [k, v] of Object.entries(bookingMetadata(opts.link))) c[`metadata[${k}]`] = v;
  return c;
}
