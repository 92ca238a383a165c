// Entry of the lazy chunk the element fetches in parallel with the tenant config: the consent
// step, session creation, the origin-checked frame session (our own side of Cal.com's embed
// protocol) and booking reports. It holds no third-party code, so fetching it before consent is
// fine; keeping it out of widget.js keeps the initial script small. The
// config answer is fetched by widget.js in parallel and checked here (the reader is ~1 KB).
import { createSession, pageContext, type ConsentChoice, type Session } from '../../entities/session/session.js';
import { checkTenantConfig as readConfig, type TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import { frameOrigin } from '../../features/embed/frame-url.js';
import { firstPageQuery, warmFirstPage } from '../../features/native/first-page.js';
import { preconnect } from '../../shared/lib/preconnect.js';

/**
 * The tenant config, checked for `mode`. In native mode the first page's date arithmetic is
 * readied just after, while the visitor reads the consent step, so the consent click does not
 * pay for the page's first use of `Intl` before its session request leaves (decision 0027).
 */
export function checkTenantConfig(raw: unknown, mode: string): TenantConfig {
  const config = readConfig(raw, mode);
  if (mode === 'native') setTimeout(warmFirstPage);
  return config;
}

export { consentForm } from '../../features/consent/consent-form.js';
export { checkConsent, cmpConsent, formPurposes } from '../../features/consent/consent.js';
/** The page's consent manager is watched only where `consent="tcf"`/`"gcm"` asks for it: its code is a chunk of its own. */
export const loadCmp = () => import('../../features/consent/cmp-controller.js');
export { makeNonce } from '../../entities/session/session.js';
export { loadView, takeDown } from './calbridge-booking.view.js';

/**
 * The consent click's network work: for framed modes a preconnect to the origin the frame loads
 * from, at once; the session request (with the nonce the frame's metadata also carries) in a
 * microtask, so still in the click's task but after the element has made the frame (it renders
 * synchronously after calling this), so the frame's request leaves first; the two then load
 * in parallel. Native mode's session request names the picker's first page of free times, which
 * the server answers with the session (decision 0027): one round trip to the first times, not two.
 */
export function beginSession(server: string, config: TenantConfig, consent: ConsentChoice, nonce: string, mode: string, signal: AbortSignal, event?: string): Promise<Session> {
  if (mode !== 'native') preconnect(frameOrigin(config.calOrigin));
  const slots = mode === 'native' && event ? { slots: firstPageQuery(event) } : {};
  return Promise.resolve().then(() => createSession(server, config.tenant, { nonce, consent, context: pageContext(location, document.referrer), ...slots }, signal));
}
