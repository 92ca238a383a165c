// Entry of the lazy chunk the element fetches when the visitor first comes near it (pointer or
// focus on the element, or `open()`/`grantConsent()`/a consent manager), never on idle: what
// consent starts (session creation, the origin-checked frame session, our own side of Cal.com's
// embed protocol, booking reports). It holds no third-party code, so fetching it before consent
// is fine. What consent does to the element's state is here too (calbridge-booking.open.ts,
// decision 0032). The consent step itself (config reader and form) is in widget.js, so inline and
// native show it without this chunk (decision 0026).
import { warmFirstPage } from '../../features/native/first-page.js';
import { loadNative } from './calbridge-booking.view.js';

export { checkConsent } from '../../features/consent/consent.js';
export { announce, fallbackLink, takeDown, viewTemplate } from './calbridge-booking.view.js';

/**
 * Native mode, once the visitor comes near: the first page's date arithmetic readied (decision
 * 0027), and the picker's chunk loaded.
 */
export const warmNative = (): Promise<unknown> => (warmFirstPage(), loadNative());
export { openWith, pause, showView } from './calbridge-booking.open.js';
export { BookingDialog } from './calbridge-booking.dialog.js';
