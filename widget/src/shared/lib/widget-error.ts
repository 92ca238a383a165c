/**
 * Stable codes carried by `calbridge-error` events. Programs branch on the code; people read
 * the localised message the element shows.
 */
export type WidgetErrorCode =
  | 'missing_tenant'
  | 'network_error'
  | 'tenant_not_found'
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'server_error'
  | 'invalid_response'
  | 'consent_invalid'
  | 'embed_load_failed'
  | 'frame_failed'
  | 'frame_timeout'
  | 'observe_failed'
  | 'native_unavailable'
  | 'mode_not_allowed'
  | 'session_expired'
  | 'calcom_rejected';

/** An error with a stable `code`; everything the element shows as a failure is one of these. */
export class WidgetError extends Error {
  override name = 'WidgetError';
  constructor(
    readonly code: WidgetErrorCode,
    readonly status = 0,
    options?: ErrorOptions,
  ) {
    super(code, options);
  }
}

/** Wraps anything thrown into a WidgetError, keeping the original as `cause`. */
export const toWidgetError = (e: unknown, fallback: WidgetErrorCode): WidgetError =>
  e instanceof WidgetError ? e : new WidgetError(fallback, 0, { cause: e });
