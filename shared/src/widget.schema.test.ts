import { describe, expect, it } from 'vitest';
import {
  CreateSessionRequest,
  CreateSessionResponse,
  ObservedBookingRequest,
  WidgetConfig,
} from './widget.schema.js';

const config = {
  tenant: 'acme',
  calLink: 'jane',
  calOrigin: 'https://cal.example.com',
  defaultEvent: 'intro-call',
  consent: {
    version: '2026-11-01',
    text: 'We share your booking details with Cal.com to schedule the call.',
    purposes: [
      { id: 'booking', required: true, label: 'Schedule my call' },
      { id: 'marketing', required: false, label: 'Send me news' },
    ],
    privacyPolicyUrl: 'https://acme.example/privacy',
  },
  theme: 'auto',
  modes: ['inline', 'popup', 'floating'],
};

describe('WidgetConfig', () => {
  it('accepts a complete public config', () => {
    expect(WidgetConfig.parse(config)).toEqual(config);
  });

  it('refuses a Cal origin with a path, so the origin check stays exact', () => {
    expect(WidgetConfig.safeParse({ ...config, calOrigin: 'https://cal.example.com/x' }).success).toBe(false);
  });

  it('refuses consent without any required purpose', () => {
    const consent = { ...config.consent, purposes: [{ id: 'marketing', required: false, label: 'News' }] };
    expect(WidgetConfig.safeParse({ ...config, consent }).success).toBe(false);
  });

  it('refuses a javascript: privacy policy link', () => {
    const consent = { ...config.consent, privacyPolicyUrl: 'javascript:alert(1)' };
    expect(WidgetConfig.safeParse({ ...config, consent }).success).toBe(false);
  });

  it('refuses an unknown mode', () => {
    expect(WidgetConfig.safeParse({ ...config, modes: ['sidebar'] }).success).toBe(false);
  });
});

describe('CreateSessionRequest', () => {
  const body = {
    consent: { version: '2026-11-01', purposes: ['booking'] },
    context: { pageUrl: 'https://acme.example/contact', referrer: '', utm: { source: 'newsletter' } },
  };

  it('accepts consent plus page context', () => {
    expect(CreateSessionRequest.parse(body)).toEqual(body);
  });

  it('refuses unknown fields so typos never pass silently', () => {
    expect(CreateSessionRequest.safeParse({ ...body, extra: 1 }).success).toBe(false);
    expect(CreateSessionRequest.safeParse({ ...body, context: { ...body.context, utm: { id: 'x' } } }).success).toBe(false);
  });

  it('refuses an empty purpose list', () => {
    expect(CreateSessionRequest.safeParse({ ...body, consent: { version: 'v1', purposes: [] } }).success).toBe(false);
  });

  const slots = { eventType: 'intro-call', start: '2026-11-29T00:00:00Z', end: '2026-12-29T00:00:00Z', timeZone: 'Europe/Berlin' };

  it('carries the first page of free times native mode wants', () => {
    expect(CreateSessionRequest.parse({ ...body, slots })).toEqual({ ...body, slots });
  });

  it('drops a slots query it cannot read instead of refusing the session', () => {
    for (const bad of [{ ...slots, timeZone: 'Mars/Base' }, { ...slots, start: 'soon' }, { ...slots, extra: 1 }, 'intro-call'])
      expect(CreateSessionRequest.parse({ ...body, slots: bad })).toEqual({ ...body, slots: undefined });
  });
});

describe('CreateSessionResponse', () => {
  it('accepts a token with its expiry and scopes', () => {
    const r = {
      token: 'eyJ.x.y',
      sessionId: 's1',
      consentReceiptId: 'r1',
      expiresAt: '2026-11-25T12:00:00.000Z',
      scopes: ['bookings:observe'],
    };
    expect(CreateSessionResponse.parse(r)).toEqual(r);
    expect(CreateSessionResponse.safeParse({ ...r, expiresAt: 'soon' }).success).toBe(false);
  });

  it('may carry the first page of free times with the window it covers', () => {
    const r = {
      token: 'eyJ.x.y',
      sessionId: 's1',
      consentReceiptId: 'r1',
      expiresAt: '2026-11-25T12:00:00.000Z',
      scopes: ['bookings:observe', 'bookings:create'],
      slots: {
        eventType: 'intro-call',
        timeZone: 'UTC',
        start: '2026-11-29T00:00:00Z',
        end: '2026-12-29T00:00:00Z',
        days: [{ date: '2026-12-01', slots: [{ start: '2026-12-01T09:00:00Z', end: '2026-12-01T09:30:00Z' }] }],
      },
    };
    expect(CreateSessionResponse.parse(r)).toEqual(r);
    expect(CreateSessionResponse.safeParse({ ...r, slots: { ...r.slots, start: undefined } }).success).toBe(false);
  });
});

describe('ObservedBookingRequest', () => {
  it('needs only the booking uid', () => {
    expect(ObservedBookingRequest.parse({ uid: 'abc' })).toEqual({ uid: 'abc' });
    expect(ObservedBookingRequest.safeParse({ uid: '' }).success).toBe(false);
  });

  it('accepts times with an offset and a null event type id', () => {
    const b = { uid: 'abc', startTime: '2026-12-01T09:00:00+01:00', endTime: '2026-12-01T09:30:00Z', eventTypeId: null };
    expect(ObservedBookingRequest.parse(b)).toEqual(b);
  });
});
