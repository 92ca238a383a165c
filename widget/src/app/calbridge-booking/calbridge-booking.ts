import { CalbridgeBooking } from './calbridge-booking.element.js';

export * from './calbridge-booking.element.js';

// Guarded: a second copy of widget.js on the page must not throw.
if (!customElements.get('calbridge-booking')) customElements.define('calbridge-booking', CalbridgeBooking);

declare global {
  interface HTMLElementTagNameMap {
    'calbridge-booking': CalbridgeBooking;
  }
}
