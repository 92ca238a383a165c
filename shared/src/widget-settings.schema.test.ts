import { describe, expect, it } from 'vitest';
import { CreateTenantRequest, UpdateTenantRequest } from './tenant.schema.js';
import { WidgetSettings, WidgetSettingsPatch } from './widget-settings.schema.js';

const consent = {
  version: '2026-12-01',
  text: 'We load the booking calendar from Cal.com once you agree.',
  purposes: [
    { id: 'booking', required: true, label: 'Load the calendar and book' },
    { id: 'news', required: false, label: 'Send me news' },
  ],
};

describe('WidgetSettings', () => {
  it('accepts nothing set, and every member set', () => {
    expect(WidgetSettings.parse({})).toEqual({});
    const full = { consent, privacyPolicyUrl: 'https://acme.example/privacy', theme: 'dark', modes: ['inline', 'popup'], defaultEvent: 'intro-call' };
    expect(WidgetSettings.parse(full)).toEqual(full);
  });

  it.each([
    ['a consent without a required purpose', { consent: { ...consent, purposes: [consent.purposes[1]] } }],
    ['two purposes with one id', { consent: { ...consent, purposes: [consent.purposes[0], consent.purposes[0]] } }],
    ['a version with spaces', { consent: { ...consent, version: 'v 2' } }],
    ['a blank consent text', { consent: { ...consent, text: '   ' } }],
    ['no modes', { modes: [] }],
    ['a mode twice', { modes: ['popup', 'popup'] }],
    ['an unknown theme', { theme: 'sepia' }],
    ['a javascript: policy link', { privacyPolicyUrl: 'javascript:alert(1)' }],
    ['an unknown member', { colour: 'red' }],
    ['null in stored settings', { theme: null }],
  ])('refuses %s', (_name, value) => {
    expect(WidgetSettings.safeParse(value).success).toBe(false);
  });

  it('lets a patch set a member back to its default with null, and the tenant requests carry it', () => {
    expect(WidgetSettingsPatch.parse({ consent: null, theme: 'light' })).toEqual({ consent: null, theme: 'light' });
    expect(UpdateTenantRequest.parse({ widget: { modes: null } })).toEqual({ widget: { modes: null } });
    expect(CreateTenantRequest.safeParse({ slug: 'acme', name: 'Acme', allowedOrigins: [], widget: { theme: null } }).success).toBe(false);
  });
});
