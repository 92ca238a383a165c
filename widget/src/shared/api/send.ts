import type { WidgetErrorCode } from '../lib/widget-error.js';
import { requestJson } from './request.js';

// The requests made after consent (session, booking reports, native mode's slots and bookings).
// A module of its own so that only the lazy chunks carry it: the one request widget.js makes,
// the tenant config, is a plain GET (decision 0038).

/** Problem codes these requests tell apart (besides the config's, `session_expired` and `calcom_rejected`). */
const KNOWN: readonly WidgetErrorCode[] = ['tenant_not_found', 'origin_not_allowed', 'rate_limited', 'session_expired', 'calcom_rejected'];

/**
 * {@link requestJson} with a JSON body, the session's bearer token, extra headers and
 * `keepalive`, as asked. `simple`: the JSON goes as the browser's default `text/plain` body, so a
 * request with no token or extra header is a CORS simple request, sent without a preflight (the
 * session request; the server takes JSON that way on that route only, decision 0042).
 */
export function sendJson(
  url: string,
  o: { method?: 'GET' | 'POST'; body?: unknown; token?: string; headers?: Record<string, string>; keepalive?: boolean; simple?: boolean },
  signal?: AbortSignal,
): Promise<unknown> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.body !== undefined && !o.simple) headers['content-type'] = 'application/json';
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  return requestJson(url, { method: o.method ?? 'GET', headers, body: o.body === undefined ? null : JSON.stringify(o.body), keepalive: !!o.keepalive }, signal, KNOWN);
}
