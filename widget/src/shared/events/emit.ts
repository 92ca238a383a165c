import type { CalbridgeBookedDetail } from './calbridge-booked.js';
import type { CalbridgeConsentDetail } from './calbridge-consent.js';
import type { CalbridgeErrorDetail } from './calbridge-error.js';
import type { CalbridgeReadyDetail } from './calbridge-ready.js';

/** Every event the element fires, with its detail. */
export interface CalbridgeEventDetails {
  'calbridge-ready': CalbridgeReadyDetail;
  'calbridge-consent': CalbridgeConsentDetail;
  'calbridge-open': Record<string, never>;
  'calbridge-close': Record<string, never>;
  'calbridge-booked': CalbridgeBookedDetail;
  'calbridge-error': CalbridgeErrorDetail;
}

/** Dispatches a typed, bubbling, composed event from `host`. */
export const emit = <K extends keyof CalbridgeEventDetails>(
  host: EventTarget,
  type: K,
  detail: CalbridgeEventDetails[K],
): boolean => host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
