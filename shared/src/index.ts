export * from './tenant.schema.js';
export * from './problem.schema.js';
export * from './widget.schema.js';
export * from './widget-settings.schema.js';
export * from './embed-message.schema.js';
export * from './calcom-webhook.schema.js';
export * from './native-booking.schema.js';
