import type { WidgetErrorCode } from '../lib/widget-error.js';

/** Detail of `calbridge-error`: a failure the element shows, with a stable code. */
export interface CalbridgeErrorDetail {
  code: WidgetErrorCode;
  /** HTTP status when the server answered, else 0. */
  status: number;
}
export type CalbridgeErrorEvent = CustomEvent<CalbridgeErrorDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-error': CalbridgeErrorEvent;
  }
}
