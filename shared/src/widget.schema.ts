import { z } from 'zod';
import { SessionSlots, SlotsQuery } from './native-booking.schema.js';
import { TenantSlug, WebOrigin } from './web.schema.js';

// Contracts between <calbridge-booking> and the server's public widget API
// (`/v1/widget/:tenant/...`). The widget mirrors these with tiny hand-written
// readers to stay under its size budget; widget tests check both agree.

/**
 * How the element presents booking: the Cal.com page inline, in a popup or from a floating
 * launcher, or `native` (our own slot picker and form; offered only to tenants with a Cal.com connection).
 */
export const WidgetMode = z.enum(['inline', 'popup', 'floating', 'native']);
export type WidgetMode = z.infer<typeof WidgetMode>;

/** Colour scheme of the element and of the framed booking page. */
export const WidgetTheme = z.enum(['light', 'dark', 'auto']);
export type WidgetTheme = z.infer<typeof WidgetTheme>;

/** An event type slug as Cal.com uses it in links (`intro-call`). */
export const EventSlug = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'an event type slug such as "intro-call"');

/** The owner part of a Cal.com link: `jane`, or `team/sales`. The event slug is appended by the widget. */
export const CalOwnerLink = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)?$/, 'a Cal.com user or team path such as "jane" or "team/sales"');

/** One purpose the visitor consents to. Required purposes cannot be declined; optional ones start unchecked. */
export const ConsentPurpose = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/),
  required: z.boolean(),
  label: z.string().min(1).max(200),
});
export type ConsentPurpose = z.infer<typeof ConsentPurpose>;

/** The consent text the visitor sees, versioned so a receipt can name exactly what was shown. */
export const WidgetConsent = z.object({
  version: z.string().min(1).max(64),
  text: z.string().min(1).max(4000),
  purposes: z
    .array(ConsentPurpose)
    .min(1)
    .max(10)
    .refine((p) => p.some((x) => x.required), { message: 'at least one required purpose' }),
  privacyPolicyUrl: z.url({ protocol: /^https?$/ }).max(2048),
});
export type WidgetConsent = z.infer<typeof WidgetConsent>;

/**
 * Body of `GET /v1/widget/:tenant/config`: everything public the element needs before consent.
 * Contains no secret and no Cal.com token; cached by browsers and proxies.
 */
export const WidgetConfig = z.object({
  tenant: TenantSlug,
  /** Owner part of the Cal.com link; the booking page is `${calOrigin}/${calLink}/${event}`. */
  calLink: CalOwnerLink,
  /** Origin of the Cal.com web app that is framed; frame messages are accepted only from it. */
  calOrigin: WebOrigin,
  defaultEvent: EventSlug.optional(),
  consent: WidgetConsent,
  theme: WidgetTheme,
  modes: z.array(WidgetMode).min(1),
});
export type WidgetConfig = z.infer<typeof WidgetConfig>;

const UtmValue = z.string().max(200).optional();

/** UTM parameters read from the host page's URL. */
export const UtmParams = z.strictObject({
  source: UtmValue,
  medium: UtmValue,
  campaign: UtmValue,
  term: UtmValue,
  content: UtmValue,
});
export type UtmParams = z.infer<typeof UtmParams>;

/**
 * The booking metadata key under which the widget puts its per-session nonce. The nonce is made
 * in the browser (32 random bytes, base64url), sent once with the session request (the server
 * keeps only its SHA-256) and placed in the booking's metadata, so the webhook that carries the
 * booking back proves the booking came through that session. A consent receipt is linked to a
 * booking only on that proof, never on a page's word (docs/security.md).
 */
export const CALBRIDGE_NONCE_METADATA_KEY = 'cb_nonce';

/** A widget session nonce as the browser makes it: 32 random bytes in base64url (43 characters). */
export const SessionNonce = z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 random bytes in base64url');

/**
 * Where a visitor's consent came from: the widget's own consent step, the page's script
 * (`grantConsent()`), an IAB TCF v2.2 CMP (`consent="tcf"`) or Google Consent Mode (`consent="gcm"`).
 */
export const ConsentSource = z.enum(['widget', 'api', 'tcf', 'gcm']);
export type ConsentSource = z.infer<typeof ConsentSource>;

const ClickId = z.string().max(500).optional();

/** Ad click identifiers read from the host page's URL, kept for attribution like UTM values. */
export const ClickIds = z.strictObject({ gclid: ClickId, fbclid: ClickId });
export type ClickIds = z.infer<typeof ClickIds>;

/** Body of `POST /v1/widget/:tenant/sessions`, sent once the visitor has consented. */
export const CreateSessionRequest = z.strictObject({
  /** The nonce the widget also puts in the booking's metadata under {@link CALBRIDGE_NONCE_METADATA_KEY}. */
  nonce: SessionNonce.optional(),
  consent: z.strictObject({
    version: z.string().min(1).max(64),
    purposes: z.array(z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/)).min(1).max(10),
    /** Where the consent came from; recorded on the receipt. Default `widget`. */
    source: ConsentSource.optional(),
  }),
  context: z.strictObject({
    /** Host page URL without query or fragment (those may hold personal data). */
    pageUrl: z.url({ protocol: /^https?$/ }).max(2048),
    /** Origin of the referring page, or the empty string. */
    referrer: z.string().max(2048),
    utm: UtmParams,
    clickIds: ClickIds.optional(),
  }),
  /**
   * Native mode: the page of free times the picker shows first. When the session may book, the
   * server asks Cal.com for it while minting and answers it in `slots`. A query the server cannot
   * read is dropped, never a reason to refuse the session (decision 0027).
   */
  slots: SlotsQuery.optional().catch(undefined),
});
export type CreateSessionRequest = z.infer<typeof CreateSessionRequest>;

/**
 * What a widget session token may do: `bookings:observe` reports a booking the embed made;
 * `bookings:create` reads slots and books through the server (native mode), issued only when the
 * tenant's config offers `native`.
 */
export const SessionScope = z.enum(['bookings:observe', 'bookings:create']);
export type SessionScope = z.infer<typeof SessionScope>;

/** Answer to `POST /v1/widget/:tenant/sessions` (201). The token is ours, never a Cal.com token. */
export const CreateSessionResponse = z.object({
  token: z.string().min(1),
  sessionId: z.string().min(1),
  consentReceiptId: z.string().min(1),
  /** ISO 8601 instant after which the token is refused. */
  expiresAt: z.iso.datetime({ offset: true }),
  scopes: z.array(SessionScope),
  /**
   * Native mode: the free times the request's `slots` query asked for, when Cal.com answered
   * them within the session's short deadline; absent otherwise (the picker then asks itself).
   */
  slots: SessionSlots.optional(),
});
export type CreateSessionResponse = z.infer<typeof CreateSessionResponse>;

/**
 * Body of `POST /v1/widget/:tenant/bookings/observed` (Bearer session token): what the
 * embed told the page about a booking it just made. Unverified until Cal.com's webhook confirms it.
 */
export const ObservedBookingRequest = z.strictObject({
  uid: z.string().min(1).max(100),
  startTime: z.iso.datetime({ offset: true }).optional(),
  endTime: z.iso.datetime({ offset: true }).optional(),
  eventTypeId: z.number().int().nullable().optional(),
  eventType: EventSlug.optional(),
  status: z.string().max(40).optional(),
});
export type ObservedBookingRequest = z.infer<typeof ObservedBookingRequest>;

/** Answer to `POST /v1/widget/:tenant/bookings/observed` (201 first time, 200 when repeated). */
export const ObservedBookingResponse = z.object({
  uid: z.string(),
  sessionId: z.string(),
  consentReceiptId: z.string(),
});
export type ObservedBookingResponse = z.infer<typeof ObservedBookingResponse>;
