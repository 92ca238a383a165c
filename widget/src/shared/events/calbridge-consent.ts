/** Detail of `calbridge-consent`: the visitor consented and the server stored a receipt. */
export interface CalbridgeConsentDetail {
  version: string;
  purposes: string[];
  /** Where consent came from: `widget` (the consent step), `api` (`grantConsent()`), `tcf` or `gcm`. */
  source?: 'widget' | 'api' | 'tcf' | 'gcm' | undefined;
  consentReceiptId: string;
}
export type CalbridgeConsentEvent = CustomEvent<CalbridgeConsentDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-consent': CalbridgeConsentEvent;
  }
}
