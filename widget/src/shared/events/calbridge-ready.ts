/** Detail of `calbridge-ready`: the tenant config loaded and the element is interactive. */
export interface CalbridgeReadyDetail {
  tenant: string;
  mode: string;
}
export type CalbridgeReadyEvent = CustomEvent<CalbridgeReadyDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-ready': CalbridgeReadyEvent;
  }
}
