import { describe, expect, it } from 'vitest';
import { CALBRIDGE_TENANT_METADATA_KEY, CalcomWebhook } from './calcom-webhook.schema.js';

const booking = {
  uid: 'bk_9f2c1a',
  bookingId: 101,
  title: 'Intro call',
  startTime: '2026-12-01T10:00:00Z',
  endTime: '2026-12-01T10:30:00Z',
  status: 'ACCEPTED',
  eventTypeId: 7,
  attendees: [{ name: 'Ada', email: 'ada@example.test', timeZone: 'Europe/London', language: { locale: 'en' } }],
  organizer: { id: 1, name: 'Host', email: 'host@example.test', timeZone: 'UTC', language: { locale: 'en' } },
  metadata: { [CALBRIDGE_TENANT_METADATA_KEY]: 'acme' },
  somethingNew: { nested: true },
};

describe('CalcomWebhook', () => {
  it('should read a booking trigger and keep fields it does not know', () => {
    const r = CalcomWebhook.parse({ triggerEvent: 'BOOKING_CREATED', createdAt: '2026-11-25T10:00:00.000Z', payload: booking });
    expect(r.kind).toBe('booking');
    if (r.kind !== 'booking') return;
    expect(r.booking.uid).toBe('bk_9f2c1a');
    expect((r.booking as Record<string, unknown>).somethingNew).toEqual({ nested: true });
  });

  it('should not read a booking trigger without a booking uid', () => {
    const r = CalcomWebhook.safeParse({ triggerEvent: 'BOOKING_CANCELLED', createdAt: '2026-11-25T10:00:00.000Z', payload: { ...booking, uid: undefined } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['payload.uid']);
  });

  it('should read fields of unforeseen types as unknown instead of failing', () => {
    const r = CalcomWebhook.parse({
      triggerEvent: 'BOOKING_CREATED',
      createdAt: '2026-11-25T10:00:00.000Z',
      payload: { ...booking, startTime: 'tomorrow', bookingId: 'x', status: 'ACCEPTED_LATER', attendees: [{ email: 7 }, { email: 'b@example.test' }], metadata: { long: 'x'.repeat(10_000), nested: { a: 1 } } },
    });
    if (r.kind !== 'booking') throw new Error(r.kind);
    expect(r.booking).toMatchObject({ startTime: null, bookingId: null, status: null, attendees: [{ email: 'b@example.test' }] });
    expect(r.booking.metadata).toEqual({ long: 'x'.repeat(10_000), nested: { a: 1 } });
  });

  it('should read the flat scheduled MEETING_ENDED body with the booking beside the trigger', () => {
    const r = CalcomWebhook.parse({ triggerEvent: 'MEETING_ENDED', ...booking, id: 101, createdAt: '2026-01-01T09:00:00.000Z' });
    expect(r).toMatchObject({ kind: 'meeting', bookingUid: 'bk_9f2c1a', calcomId: 101, endTime: '2026-12-01T10:30:00Z', createdAt: '2026-01-01T09:00:00.000Z' });
  });

  it('should read BOOKING_NO_SHOW_UPDATED by its bookingUid', () => {
    const r = CalcomWebhook.parse({
      triggerEvent: 'BOOKING_NO_SHOW_UPDATED',
      createdAt: '2026-11-25T10:00:00.000Z',
      payload: { message: 'x', bookingUid: 'bk_1', attendees: [{ email: 'a@b.test', noShow: true }] },
    });
    expect(r).toMatchObject({ kind: 'no_show', noShow: { bookingUid: 'bk_1' } });
  });

  it('should pass unknown triggers as other', () => {
    const r = CalcomWebhook.parse({ triggerEvent: 'SOMETHING_NEW', createdAt: '2026-11-25T10:00:00Z', payload: {} });
    expect(r).toEqual({ kind: 'other', trigger: 'SOMETHING_NEW', createdAt: '2026-11-25T10:00:00Z' });
    expect(CalcomWebhook.parse({ triggerEvent: 'OOO_CREATED', payload: 'x' })).toEqual({ kind: 'other', trigger: 'OOO_CREATED', createdAt: null });
  });

  it('should refuse an envelope with an impossible time or no payload', () => {
    expect(CalcomWebhook.safeParse({ triggerEvent: 'BOOKING_CREATED', createdAt: '0000-01-01T00:00:00Z', payload: booking }).success).toBe(false);
    expect(CalcomWebhook.safeParse({ triggerEvent: 'BOOKING_CREATED', createdAt: '2026-11-25T10:00:00Z' }).success).toBe(false);
  });
});
