import type { ClickIds, CreateSessionRequest, CreateSessionResponse, ObservedBookingRequest, UtmParams } from '@calbridge/shared';
import { widgetUrl } from '../../shared/api/request.js';
import { sendJson } from '../../shared/api/send.js';
import { isObj, isStr, must } from '../../shared/lib/read.js';

/**
 * A short-lived widget session, minted by the server once the visitor consented. Native mode's
 * first page of free times (`slots`) is read by the native chunk, which uses it (its reader is
 * there), so it stays unchecked here.
 */
export type Session = Omit<CreateSessionResponse, 'slots'> & { slots?: unknown };
export type ConsentChoice = CreateSessionRequest['consent'];
export type PageContext = CreateSessionRequest['context'];

/** Mirrors `CreateSessionResponse` from @calbridge/shared; null when `v` does not match. */
export function readSession(v: unknown): Session | null {
  return isObj(v) &&
    isStr(v.token, 8192) && isStr(v.sessionId, 200) && isStr(v.consentReceiptId, 200) &&
    isStr(v.expiresAt, 40) && !Number.isNaN(Date.parse(v.expiresAt)) && /[zZ]|[+-]\d\d:\d\d$/.test(v.expiresAt) &&
    Array.isArray(v.scopes) && v.scopes.every((s) => s === 'bookings:observe' || s === 'bookings:create')
    ? (v as Session)
    : null;
}

const UTM_KEYS = ['source', 'medium', 'campaign', 'term', 'content'] as const;

/**
 * A session nonce: 32 random bytes in base64url (43 characters), made at the consent click.
 * It goes into the session request and, from the start, into the frame's booking metadata
 * (`cb_nonce`), so both can start at once (SessionNonce in @calbridge/shared).
 */
export function makeNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Prefill read from the page URL (`?name=…&email=…`), e.g. from a campaign email's link. The
 * element's own attributes win. Values are clipped: they become query parameters of the frame.
 */
export function urlPrefill(location: Location | URL): { name?: string; email?: string } {
  const params = new URLSearchParams(location.search);
  const out: { name?: string; email?: string } = {};
  for (const k of ['name', 'email'] as const) {
    const v = params.get(k)?.trim();
    if (v) out[k] = v.slice(0, 200);
  }
  return out;
}

/**
 * Context sent with the consent: the page without query or fragment (they may carry
 * personal data), only the referrer's origin, the page's UTM parameters and ad click ids
 * (`gclid`, `fbclid`). Only those named parameters are read from the query.
 */
export function pageContext(location: Location | URL, referrer: string): PageContext & { clickIds: ClickIds } {
  const params = new URLSearchParams(location.search);
  const utm: UtmParams = {};
  for (const k of UTM_KEYS) {
    const v = params.get(`utm_${k}`);
    if (v) utm[k] = v.slice(0, 200);
  }
  const clickIds: ClickIds = {};
  for (const k of ['gclid', 'fbclid'] as const) {
    const v = params.get(k);
    if (v) clickIds[k] = v.slice(0, 500);
  }
  let ref = '';
  try {
    ref = referrer ? new URL(referrer).origin : '';
  } catch {
    /* an unparsable referrer is dropped */
  }
  return { pageUrl: location.origin + location.pathname, referrer: ref, utm, clickIds };
}

/**
 * `POST /v1/widget/:tenant/sessions` (keepalive: it may be sent as the page goes away), as a CORS
 * simple request: no preflight round trip before the consent click's session (decision 0042).
 */
export const createSession = async (
  server: string,
  tenant: string,
  body: CreateSessionRequest,
  signal?: AbortSignal,
): Promise<Session> =>
  must(readSession(await sendJson(widgetUrl(server, tenant, 'sessions'), { method: 'POST', body, keepalive: true, simple: true }, signal)));

/** `POST /v1/widget/:tenant/bookings/observed` with the session's bearer token. */
export const observeBooking = (
  server: string,
  tenant: string,
  token: string,
  body: ObservedBookingRequest,
): Promise<unknown> => sendJson(widgetUrl(server, tenant, 'bookings/observed'), { method: 'POST', body, token });
