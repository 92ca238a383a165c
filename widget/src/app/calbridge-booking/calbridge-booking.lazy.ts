// Entry of the lazy chunk the element fetches in parallel with the tenant config: the consent
// step, session creation, the origin-checked embed session and booking reports. It holds no
// third-party code (embed-core is a further chunk, loaded only after consent), so fetching it
// before consent is fine; keeping it out of widget.js keeps the initial script small. The
// config answer is fetched by widget.js in parallel and checked here (the reader is ~1 KB).
export { checkTenantConfig } from '../../entities/tenant-config/tenant-config.js';
export { consentForm } from '../../features/consent/consent-form.js';
export { checkConsent, formPurposes } from '../../features/consent/consent.js';
export { EmbedSession } from '../../features/embed/embed-session.js';
export { createSession, pageContext } from '../../entities/session/session.js';
