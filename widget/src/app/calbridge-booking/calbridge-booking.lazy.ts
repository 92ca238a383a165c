// Entry of the lazy chunk the element fetches when the visitor first comes near it (pointer or
// focus on the element, or `open()`/`grantConsent()`/a consent manager), never on idle: what
// consent starts (session creation, the origin-checked frame session, our own side of Cal.com's
// embed protocol, booking reports). It holds no third-party code, so fetching it before consent
// is fine. The consent step itself (config reader and form) is in widget.js, so inline and
// native show it without this chunk (decision 0026).
import { createSession, pageContext, type ConsentChoice, type Session } from '../../entities/session/session.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import { frameOrigin } from '../../features/embed/frame-url.js';
import { firstPageQuery, warmFirstPage } from '../../features/native/first-page.js';
import { preconnect } from '../../shared/lib/preconnect.js';

export { checkConsent } from '../../features/consent/consent.js';
/** Native mode readies the first page's date arithmetic as this chunk arrives (decision 0027). */
export { warmFirstPage };
export { makeNonce } from '../../entities/session/session.js';
export { loadNative, loadView, takeDown, viewTemplate } from './calbridge-booking.view.js';
export { BookingDialog } from './calbridge-booking.dialog.js';
export { ViewportController } from '../../shared/ui/viewport-controller.js';

/**
 * The consent click's network work: for framed modes a preconnect to the origin the frame loads
 * from, at once; the session request (with the nonce the frame's metadata also carries) when
 * `send` is called (native mode: at once). The element makes the frame in the click's own task
 * and sends the session request once the booking page's document has loaded (its
 * `__iframeReady`), the frame has failed or gone, no frame is being made, or the page is going
 * away: until then the frame's request and its page's first load have the network, the main
 * thread and (on one machine) the CPU to themselves (decision 0028). Native mode's session
 * request names the picker's first page of free times, which the server answers with the
 * session (decision 0027): one round trip to the first times, not two.
 */
export function beginSession(
  server: string,
  config: TenantConfig,
  consent: ConsentChoice,
  nonce: string,
  mode: string,
  signal: AbortSignal,
  event?: string,
): [session: Promise<Session>, send: () => void] {
  if (mode !== 'native') preconnect(frameOrigin(config.calOrigin));
  // The page as it was when the visitor consented.
  const context = pageContext(location, document.referrer);
  const slots = mode === 'native' && event ? { slots: firstPageQuery(event) } : {};
  let send!: () => void;
  const gate = new Promise<void>((r) => (send = r));
  // A page going away before then still records the consent it took (the request is keepalive).
  addEventListener('pagehide', send, { once: true });
  const session = gate.then(() => {
    removeEventListener('pagehide', send);
    return createSession(server, config.tenant, { nonce, consent, context, ...slots }, signal);
  });
  if (mode === 'native') send();
  return [session, send];
}
