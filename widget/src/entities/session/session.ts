import type { CreateSessionRequest, CreateSessionResponse, ObservedBookingRequest, UtmParams } from '@calbridge/shared';
import { requestJson, widgetUrl } from '../../shared/api/request.js';
import { isObj, isStr, must } from '../../shared/lib/read.js';

/** A short-lived widget session, minted by the server once the visitor consented. */
export type Session = CreateSessionResponse;
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
 * Context sent with the consent: the page without query or fragment (they may carry
 * personal data), only the referrer's origin, and the page's UTM parameters.
 */
export function pageContext(location: Location | URL, referrer: string): PageContext {
  const params = new URLSearchParams(location.search);
  const utm: UtmParams = {};
  for (const k of UTM_KEYS) {
    const v = params.get(`utm_${k}`);
    if (v) utm[k] = v.slice(0, 200);
  }
  let ref = '';
  try {
    ref = referrer ? new URL(referrer).origin : '';
  } catch {
    /* an unparsable referrer is dropped */
  }
  return { pageUrl: location.origin + location.pathname, referrer: ref, utm };
}

/** `POST /v1/widget/:tenant/sessions`. */
export const createSession = async (
  server: string,
  tenant: string,
  body: CreateSessionRequest,
  signal?: AbortSignal,
): Promise<Session> =>
  must(readSession(await requestJson(widgetUrl(server, tenant, 'sessions'), { method: 'POST', body }, signal)));

/** `POST /v1/widget/:tenant/bookings/observed` with the session's bearer token. */
export const observeBooking = (
  server: string,
  tenant: string,
  token: string,
  body: ObservedBookingRequest,
): Promise<unknown> => requestJson(widgetUrl(server, tenant, 'bookings/observed'), { method: 'POST', body, token });
