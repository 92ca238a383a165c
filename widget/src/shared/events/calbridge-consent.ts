/** Detail of `calbridge-consent`: the visitor consented and the server stored a receipt. */
export interface CalbridgeConsentDetail {
  version: string;
  purposes: string[];
  consentReceiptId: string;
}
export type CalbridgeConsentEvent = CustomEvent<CalbridgeConsentDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-consent': CalbridgeConsentEvent;
  }
}
