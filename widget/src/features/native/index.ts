// Native mode's lazy chunk: the slot picker and booking form element, plus the few lines the
// host element would otherwise carry in widget.js. Loaded by <calbridge-booking mode="native">
// only after consent, so other modes never fetch it.
import { html, type TemplateResult } from 'lit';
import { createSession, pageContext, type ConsentChoice, type Session } from '../../entities/session/session.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import { WidgetError } from '../../shared/lib/widget-error.js';
import './native-booking/native-booking.js';

export { CalbridgeNativeBooking, prefetchSlots } from './native-booking/native-booking.js';

/** The event type to book: throws `native_unavailable` unless the tenant offers native mode, the session may book and an event is known. */
export function nativeEvent(config: TenantConfig, session: Session, event: string | undefined): string {
  if (!config.modes.includes('native') || !session.scopes.includes('bookings:create') || !event) throw new WidgetError('native_unavailable');
  return event;
}

/**
 * The picker for `host`: prefill from its `name`/`email`; its `calbridge-booked` and `calbridge-error`
 * events reach the page from `host`; an expired session is replaced with the same `consent`.
 */
export const nativeView = (
  host: HTMLElement & { tenant: string; name?: string; email?: string },
  server: string,
  token: string,
  event: string,
  locale: string,
  consent: ConsentChoice,
): TemplateResult => html`<calbridge-native-booking
  part="native"
  .server=${server}
  .tenant=${host.tenant}
  .token=${token}
  .event=${event}
  .name=${host.name}
  .email=${host.email}
  .locale=${locale}
  .renew=${async () => (await createSession(server, host.tenant, { consent, context: pageContext(location, document.referrer) })).token}
></calbridge-native-booking>`;
