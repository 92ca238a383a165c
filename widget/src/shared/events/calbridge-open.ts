/** `calbridge-open`: the booking dialog opened (popup and floating modes). */
export type CalbridgeOpenEvent = CustomEvent<Record<string, never>>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-open': CalbridgeOpenEvent;
  }
}
