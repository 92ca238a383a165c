import { readFileSync } from 'node:fs';
import { CalcomWebhook } from '@calbridge/shared';
import { describe, expect, it } from 'vitest';
import { emailsIn, pseudonymiseDelivery, type ErasedSet } from './pseudonymise.js';
import { isErasedPlaceholder } from './subject.js';

const created = JSON.parse(readFileSync(new URL('../../../test/fixtures/webhooks/booking-created.json', import.meta.url), 'utf8')) as { createdAt: string; payload: Record<string, any> };
const ADA = 'ada@example.test';
const erased: ErasedSet = { has: (e) => e.toLowerCase() === ADA, placeholder: () => 'erased-0123456789abcdef@erased.invalid' };

describe('pseudonymised deliveries', () => {
  it('when a booking delivery names an erased attendee, then the rewrite keeps identifiers, times and status and nothing of the person', () => {
    const body = { ...created, payload: { ...created.payload, attendees: [...created.payload.attendees, { name: 'Bo Guest', email: 'bo@example.test', timeZone: 'UTC' }] } };
    const out = pseudonymiseDelivery(body, erased, [ADA]);
    const text = JSON.stringify(out);
    for (const gone of ['Ada', 'Lovelace', ADA, 'Looking forward', 'meetings.example']) expect(text).not.toContain(gone);
    expect(out).toMatchObject({
      triggerEvent: 'BOOKING_CREATED',
      createdAt: created.createdAt,
      calbridgePseudonymised: true,
      payload: {
        uid: created.payload.uid,
        bookingId: 1001,
        startTime: created.payload.startTime,
        endTime: created.payload.endTime,
        status: 'ACCEPTED',
        eventTypeId: 42,
        metadata: { calbridge_tenant: 'acme' },
        organizer: { name: 'Jane Host', email: 'jane@host.example' },
        attendees: [
          { name: null, email: 'erased-0123456789abcdef@erased.invalid', timeZone: null },
          { name: 'Bo Guest', email: 'bo@example.test', timeZone: 'UTC' },
        ],
      },
    });
    const parsed = CalcomWebhook.parse(out);
    expect(parsed.kind).toBe('booking');
  });

  it('when a no-show delivery names an erased attendee, then their flag stays under the placeholder', () => {
    const body = { triggerEvent: 'BOOKING_NO_SHOW_UPDATED', createdAt: '2026-11-25T10:00:00Z', payload: { bookingUid: 'u1', message: 'Ada did not come', attendees: [{ email: ADA, noShow: true }] } };
    const out = pseudonymiseDelivery(body, erased, [ADA]);
    expect(out.payload).toEqual({ bookingUid: 'u1', attendees: [{ email: 'erased-0123456789abcdef@erased.invalid', noShow: true }] });
    expect(CalcomWebhook.parse(out).kind).toBe('no_show');
  });

  it('when a delivery of an unknown shape mentions an erased person, then only the envelope survives', () => {
    const out = pseudonymiseDelivery({ triggerEvent: 'FORM_SUBMITTED', createdAt: '2026-11-25T10:00:00Z', payload: { responses: { email: ADA } } }, erased, [ADA]);
    expect(out).toEqual({ triggerEvent: 'FORM_SUBMITTED', createdAt: '2026-11-25T10:00:00Z', payload: {}, calbridgePseudonymised: true });
  });

  it('when emails are looked for in a raw body, then every address is found once, lower-cased', () => {
    expect(emailsIn('{"a":"Ada@Example.test","b":"x ada@example.test y","c":"jane+1@host.example"}').sort()).toEqual(['ada@example.test', 'jane+1@host.example']);
  });

  it('when an address is a placeholder an erasure made, then it is recognised as one and a real one is not', () => {
    expect(isErasedPlaceholder('erased-0123456789abcdef@erased.invalid')).toBe(true);
    expect(isErasedPlaceholder('ada@example.test')).toBe(false);
    expect(isErasedPlaceholder('erased-zz@erased.invalid')).toBe(false);
  });
});
