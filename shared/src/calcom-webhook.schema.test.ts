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

  it('should refuse a booking trigger without the fields we rely on', () => {
    const r = CalcomWebhook.safeParse({ triggerEvent: 'BOOKING_CANCELLED', createdAt: '2026-11-25T10:00:00.000Z', payload: { ...booking, uid: undefined, startTime: 'tomorrow' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['payload.uid', 'payload.startTime']));
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
  });

  it('should refuse an envelope with an impossible time or no payload', () => {
    expect(CalcomWebhook.safeParse({ triggerEvent: 'BOOKING_CREATED', createdAt: '0000-01-01T00:00:00Z', payload: booking }).success).toBe(false);
    expect(CalcomWebhook.safeParse({ triggerEvent: 'BOOKING_CREATED', createdAt: '2026-11-25T10:00:00Z' }).success).toBe(false);
  });
});
