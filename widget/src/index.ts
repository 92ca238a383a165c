// Package entry and the `widget.js` bundle: importing it defines <calbridge-booking>.
export * from './app/calbridge-booking/calbridge-booking.js';
export type * from './shared/events/index.js';
export type { WidgetErrorCode } from './shared/lib/widget-error.js';
