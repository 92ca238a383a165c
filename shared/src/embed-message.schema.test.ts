import { describe, expect, it } from 'vitest';
import { EmbedMessage } from './embed-message.schema.js';

const booked = {
  originator: 'CAL',
  type: 'bookingSuccessfulV2',
  namespace: 'cb1',
  fullType: 'CAL:cb1:bookingSuccessfulV2',
  data: {
    uid: 'bk_1',
    title: 'Intro call',
    startTime: '2026-12-01T09:00:00.000Z',
    endTime: '2026-12-01T09:30:00.000Z',
    eventTypeId: 7,
    status: 'ACCEPTED',
    paymentRequired: false,
    isRecurring: false,
  },
};

describe('EmbedMessage', () => {
  it('accepts the reduced bookingSuccessfulV2 payload', () => {
    const m = EmbedMessage.parse(booked);
    expect(m.type).toBe('bookingSuccessfulV2');
  });

  it('accepts a reschedule made inside the frame (rescheduleBookingSuccessfulV2)', () => {
    const m = EmbedMessage.parse({ ...booked, type: 'rescheduleBookingSuccessfulV2', fullType: 'CAL:cb1:rescheduleBookingSuccessfulV2' });
    expect(m.type === 'rescheduleBookingSuccessfulV2' && m.data.uid).toBe('bk_1');
  });

  it('accepts a dimension change', () => {
    const m = EmbedMessage.parse({
      originator: 'CAL',
      type: '__dimensionChanged',
      namespace: 'cb1',
      fullType: 'CAL:cb1:__dimensionChanged',
      data: { iframeHeight: 640, iframeWidth: 800, isFirstTime: true },
    });
    expect(m.type === '__dimensionChanged' && m.data.iframeHeight).toBe(640);
  });

  it('refuses a fullType that does not match namespace and type', () => {
    expect(EmbedMessage.safeParse({ ...booked, fullType: 'CAL:other:bookingSuccessfulV2' }).success).toBe(false);
  });

  it('refuses a booking without uid', () => {
    expect(EmbedMessage.safeParse({ ...booked, data: { ...booked.data, uid: undefined } }).success).toBe(false);
  });

  it('refuses another originator and unknown types', () => {
    expect(EmbedMessage.safeParse({ ...booked, originator: 'EVIL' }).success).toBe(false);
    expect(EmbedMessage.safeParse({ ...booked, type: 'routed', fullType: 'CAL:cb1:routed' }).success).toBe(false);
  });

  it('refuses a namespace containing the separator', () => {
    expect(EmbedMessage.safeParse({ ...booked, namespace: 'a:b', fullType: 'CAL:a:b:bookingSuccessfulV2' }).success).toBe(false);
  });
});
