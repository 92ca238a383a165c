import { expect } from '@open-wc/testing';
import { EmbedMessage } from '@calbridge/shared';
import { readEmbedMessage } from './embed-message.js';

const msg = (type: string, data: unknown, ns = 'calbridge1') => ({ originator: 'CAL', type, namespace: ns, fullType: `CAL:${ns}:${type}`, data });
const booking = { uid: 'bk_1', title: 'Intro', startTime: '2026-12-01T09:00:00Z', endTime: '2026-12-01T09:30:00Z', eventTypeId: 3, status: 'ACCEPTED', paymentRequired: false, isRecurring: false };

const samples: [string, unknown][] = [
  ['a booking', msg('bookingSuccessfulV2', booking)],
  ['a reschedule', msg('rescheduleBookingSuccessfulV2', booking)],
  ['a reschedule without uid', msg('rescheduleBookingSuccessfulV2', { ...booking, uid: undefined })],
  ['a booking with a null event type id', msg('bookingSuccessfulV2', { ...booking, eventTypeId: null })],
  ['a booking without uid', msg('bookingSuccessfulV2', { ...booking, uid: undefined })],
  ['a booking with a fractional event type id', msg('bookingSuccessfulV2', { ...booking, eventTypeId: 1.5 })],
  ['a booking without paymentRequired', msg('bookingSuccessfulV2', { ...booking, paymentRequired: undefined })],
  ['a dimension change', msg('__dimensionChanged', { iframeHeight: 500, iframeWidth: 300, isFirstTime: false })],
  ['a negative height', msg('__dimensionChanged', { iframeHeight: -1, iframeWidth: 300, isFirstTime: false })],
  ['an infinite height', msg('__dimensionChanged', { iframeHeight: Infinity, iframeWidth: 300, isFirstTime: false })],
  ['a string height', msg('__dimensionChanged', { iframeHeight: '500', iframeWidth: 300, isFirstTime: false })],
  ['a link failure', msg('linkFailed', { code: '404', msg: 'not found', data: { url: 'https://x' } })],
  ['link ready', msg('linkReady', {})],
  ['iframe ready', msg('__iframeReady', {})],
  ['an unknown type', msg('routed', {})],
  ['a prototype key as type', msg('constructor', {})],
  ['a mismatched fullType', { ...msg('linkReady', {}), fullType: 'CAL:other:linkReady' }],
  ['another originator', { ...msg('linkReady', {}), originator: 'EVIL' }],
  ['a namespace with a colon', msg('linkReady', {}, 'a:b')],
  ['missing data', { ...msg('linkReady', {}), data: undefined }],
  ['a string', 'CAL:calbridge1:linkReady'],
];

describe('readEmbedMessage', () => {
  for (const [name, sample] of samples)
    it(`should agree with the shared zod schema on ${name}`, () => {
      expect(readEmbedMessage(sample) !== null).to.equal(EmbedMessage.safeParse(sample).success);
    });
});
