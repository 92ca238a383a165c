import { expect } from '@open-wc/testing';
import { WidgetConfig } from '@calbridge/shared';
import { bookingLink, checkTenantConfig, readTenantConfig } from './tenant-config.js';

const valid = {
  tenant: 'acme',
  calLink: 'team/sales',
  calOrigin: 'https://cal.example.com',
  defaultEvent: 'intro-call',
  consent: {
    version: 'v1',
    text: 'We share your booking details with our scheduling provider.',
    purposes: [
      { id: 'booking', required: true, label: 'Schedule my call' },
      { id: 'news', required: false, label: 'Send me news' },
    ],
    privacyPolicyUrl: 'https://acme.example/privacy',
  },
  theme: 'dark',
  modes: ['inline', 'popup'],
};
const consent = (patch: object) => ({ ...valid, consent: { ...valid.consent, ...patch } });

// Each sample goes through the hand-written reader and the zod schema: they must agree.
const samples: [string, unknown][] = [
  ['a full config', valid],
  ['no default event', { ...valid, defaultEvent: undefined }],
  ['a Cal origin with a path', { ...valid, calOrigin: 'https://cal.example.com/x' }],
  ['a Cal origin with a trailing slash', { ...valid, calOrigin: 'https://cal.example.com/' }],
  ['a javascript: Cal origin', { ...valid, calOrigin: 'javascript:alert(1)' }],
  ['a tenant slug given as an array', { ...valid, tenant: ['acme'] }],
  ['an upper-case tenant slug', { ...valid, tenant: 'ACME' }],
  ['a Cal link with a query', { ...valid, calLink: 'jane?x=1' }],
  ['an unknown theme', { ...valid, theme: 'neon' }],
  ['an unknown mode', { ...valid, modes: ['sidebar'] }],
  ['no modes', { ...valid, modes: [] }],
  ['no required purpose', consent({ purposes: [{ id: 'news', required: false, label: 'News' }] })],
  ['a purpose without label', consent({ purposes: [{ id: 'booking', required: true }] })],
  ['a purpose id with spaces', consent({ purposes: [{ id: 'my purpose', required: true, label: 'x' }] })],
  ['a javascript: policy link', consent({ privacyPolicyUrl: 'javascript:alert(1)' })],
  ['an empty consent text', consent({ text: '' })],
  ['null', null],
  ['an array', [valid]],
];

describe('readTenantConfig', () => {
  for (const [name, sample] of samples)
    it(`should agree with the shared zod schema on ${name}`, () => {
      expect(readTenantConfig(sample) !== null).to.equal(WidgetConfig.safeParse(sample).success);
    });

  it('should build the booking link from owner and event', () => {
    const config = readTenantConfig(valid)!;
    expect(bookingLink(config)).to.equal('team/sales/intro-call');
    expect(bookingLink(config, 'demo')).to.equal('team/sales/demo');
    expect(bookingLink({ ...config, defaultEvent: undefined })).to.equal('team/sales');
  });

  it("should refuse a mode the tenant's settings do not allow, with mode_not_allowed", () => {
    expect(checkTenantConfig(valid, 'popup').tenant).to.equal('acme');
    expect(() => checkTenantConfig(valid, 'floating')).to.throw().with.property('code', 'mode_not_allowed');
    expect(() => checkTenantConfig({ ...valid, theme: 'neon' }, 'inline')).to.throw().with.property('code', 'invalid_response');
  });
});
