/** `calbridge-close`: the booking dialog closed and focus went back to where it was. */
export type CalbridgeCloseEvent = CustomEvent<Record<string, never>>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-close': CalbridgeCloseEvent;
  }
}
