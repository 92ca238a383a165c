import { CalbridgeNativeBooking } from './native-booking.element.js';

export * from './native-booking.element.js';

// Guarded: a second copy of the widget on the page must not throw.
if (!customElements.get('calbridge-native-booking')) customElements.define('calbridge-native-booking', CalbridgeNativeBooking);

declare global {
  interface HTMLElementTagNameMap {
    'calbridge-native-booking': CalbridgeNativeBooking;
  }
}
