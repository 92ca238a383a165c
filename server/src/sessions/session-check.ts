import type { WidgetSessionCheck } from '../calcom/native-booking.routes.js';
import type { SessionsService } from './sessions.service.js';

/**
 * The widget-session verifier other capabilities take (native booking): the request's
 * `Origin` must be registered for the tenant and equal the token's bound origin, the
 * `Authorization: Bearer` token must be ours, unexpired, for this tenant, with `scope`.
 * Refusals: `origin_not_allowed`, `session_missing`, `session_invalid`, `session_expired`,
 * `session_wrong_tenant`, `session_wrong_origin`, `session_scope_missing`.
 */
export function widgetSessionCheck(sessions: SessionsService): WidgetSessionCheck {
  return async (req, tenant, scope) => {
    const claims = await sessions.verify(tenant, req.get('origin'), req.get('authorization'), scope);
    return { sessionId: claims.sessionId, consentReceiptId: claims.consentReceiptId };
  };
}
