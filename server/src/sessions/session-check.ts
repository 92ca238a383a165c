import type { Request } from 'express';
import type { WidgetSessionCheck } from '../calcom/native-booking.routes.js';
import type { SessionsService } from './sessions.service.js';
import type { TenantRecord } from '../tenants/tenants.service.js';
import { rateLimitAddress } from './client.js';

/**
 * The page origin a widget request comes from. Browsers send `Origin` on every cross-origin
 * request and on same-origin POSTs, but not on a same-origin GET (the widget served by this
 * server asking for slots); `Sec-Fetch-Site: same-origin`, which a page's script cannot set,
 * then vouches that the page shares this server's origin. Anything else has no origin.
 */
function requestOrigin(req: Request): string | undefined {
  const origin = req.get('origin');
  if (origin) return origin;
  return req.get('sec-fetch-site') === 'same-origin' && req.get('host') ? `${req.protocol}://${req.get('host')}` : undefined;
}

/**
 * The widget-session verifier other capabilities take (native booking): the request's page
 * origin must be registered for the tenant and equal the token's bound origin, the
 * `Authorization: Bearer` token must be ours, unexpired, for this tenant, with `scope`.
 * Refusals: `origin_not_allowed`, `session_missing`, `session_invalid`, `session_expired`,
 * `session_wrong_tenant`, `session_wrong_origin`, `session_scope_missing`.
 */
export function widgetSessionCheck(sessions: SessionsService): WidgetSessionCheck {
  return async (req, tenant, scope) => {
    const claims = await sessions.verify(tenant, requestOrigin(req), req.get('authorization'), scope);
    return { sessionId: claims.sessionId, consentReceiptId: claims.consentReceiptId };
  };
}

/** Counts a native booking against the client address's hourly cap (`native_address_limit`). */
export function nativeBookingAdmission(sessions: SessionsService): (req: Request, tenant: TenantRecord) => Promise<void> {
  return (req, tenant) => sessions.admitNativeBooking(tenant, rateLimitAddress(req.ip));
}
