import { expect } from '@open-wc/testing';
import { NativeBookingResponse, SlotsResponse } from '@calbridge/shared';
import { readBooking, readSlots } from './booking.js';

const slots = {
  eventType: 'intro-call',
  timeZone: 'Europe/London',
  days: [{ date: '2026-12-01', slots: [{ start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T09:30:00.000Z' }] }],
};
const booking = { uid: 'bk_1', status: 'accepted', start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T09:30:00.000Z', eventTypeId: 7 };

const slotSamples: [string, unknown][] = [
  ['slots', slots],
  ['offset times', { ...slots, days: [{ date: '2026-12-01', slots: [{ start: '2026-12-01T04:00:00-05:00', end: '2026-12-01T04:30:00-05:00' }] }] }],
  ['no days', { ...slots, days: [] }],
  ['a day without a date', { ...slots, days: [{ slots: [] }] }],
  ['a time without zone', { ...slots, days: [{ date: '2026-12-01', slots: [{ start: '2026-12-01T09:00:00', end: '2026-12-01T09:30:00' }] }] }],
  ['a bad date', { ...slots, days: [{ date: '1 Dec', slots: [] }] }],
  ['a list', [slots]],
];
const bookingSamples: [string, unknown][] = [
  ['a booking', booking],
  ['no uid', { ...booking, uid: undefined }],
  ['a fractional event type', { ...booking, eventTypeId: 7.5 }],
  ['a word for start', { ...booking, start: 'soon' }],
];

describe('native booking readers', () => {
  for (const [name, sample] of slotSamples)
    it(`readSlots should agree with the shared zod schema on ${name}`, () => {
      expect(readSlots(sample) !== null).to.equal(SlotsResponse.safeParse(sample).success);
    });
  for (const [name, sample] of bookingSamples)
    it(`readBooking should agree with the shared zod schema on ${name}`, () => {
      expect(readBooking(sample) !== null).to.equal(NativeBookingResponse.safeParse(sample).success);
    });
});
