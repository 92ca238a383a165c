/**
 * Detail of `calbridge-booked`, mapped from Cal.com's `bookingSuccessfulV2` (a new booking) or
 * `rescheduleBookingSuccessfulV2` (a reschedule made inside the frame) after an origin check and
 * validation. Deliberately minimal: no attendee data. A reschedule is reported as a booking
 * (it is one: Cal.com makes a new booking and cancels the old), marked `rescheduled`, so a
 * page counting bookings sees it and a page that cares can tell it apart.
 */
export interface CalbridgeBookedDetail {
  /** Cal.com booking uid (on a reschedule, the new booking's). */
  uid: string;
  startTime: string | null;
  endTime: string | null;
  /** Event type slug the element was showing, when known. */
  eventType: string | null;
  /** True when the booking replaces another one (a reschedule inside the frame). */
  rescheduled: boolean;
  /**
   * The uid of the booking this reschedule replaces, when this element made it; null otherwise
   * (Cal.com's reschedule event does not carry it; the webhook's `rescheduleUid` does).
   */
  rescheduledFromUid: string | null;
}
export type CalbridgeBookedEvent = CustomEvent<CalbridgeBookedDetail>;

declare global {
  interface GlobalEventHandlersEventMap {
    'calbridge-booked': CalbridgeBookedEvent;
  }
}
