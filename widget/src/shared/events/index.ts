export type * from './calbridge-ready.js';
export type * from './calbridge-consent.js';
export type * from './calbridge-open.js';
export type * from './calbridge-close.js';
export type * from './calbridge-booked.js';
export type * from './calbridge-error.js';
export { emit, type CalbridgeEventDetails } from './emit.js';
