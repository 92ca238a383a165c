/**
 * Detail of `calbridge-booked`, mapped from Cal.com's `bookingSuccessfulV2` after an
 * origin check and validation. Deliberately minimal: no attendee data.
 */
export interface CalbridgeBookedDetail {
  /** Cal.com booking uid. */
  uid: string;
  startTime: string | null;
  endTime: string | null;
  /** Event type slug the element was showing, when known. */
  eventType: string | null;
}
export type CalbridgeBookedEvent = CustomEvent<CalbridgeBookedDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-booked': CalbridgeBookedEvent;
  }
}
