import { CALBRIDGE_NONCE_METADATA_KEY, CALBRIDGE_TENANT_METADATA_KEY } from '@calbridge/shared';
import { expect } from '@open-wc/testing';
import { bookingMetadata, embedConfig, METADATA_LIMITS } from './embed-config.js';

const nonce = 'n'.repeat(43);
const link = {
  tenant: 'acme',
  nonce,
  utm: { source: 'news', medium: 'email', campaign: 'x'.repeat(900), term: 't', content: 'c' },
  clickIds: { gclid: 'g'.repeat(700), fbclid: 'fb.1' },
};

describe('booking metadata', () => {
  it('should link the booking to tenant and session nonce, with UTM and click ids, within Cal.com limits', () => {
    const m = bookingMetadata(link);
    expect(Object.keys(m)).to.deep.equal([
      CALBRIDGE_TENANT_METADATA_KEY,
      CALBRIDGE_NONCE_METADATA_KEY,
      'cb_utm_source',
      'cb_utm_medium',
      'cb_utm_campaign',
      'cb_utm_term',
      'cb_utm_content',
      'cb_gclid',
      'cb_fbclid',
    ]);
    expect(m.cb_nonce).to.equal(nonce);
    expect(Object.keys(m).length).to.be.at.most(METADATA_LIMITS.keys);
    for (const [k, v] of Object.entries(m)) {
      expect(k.length).to.be.at.most(METADATA_LIMITS.keyLength);
      expect(v.length).to.be.at.most(METADATA_LIMITS.valueLength);
    }
    expect(m.cb_utm_campaign).to.have.length(500);
    expect(m.cb_gclid).to.have.length(500);
  });

  it('should build the embed config with prefill, UTM query parameters and metadata entries', () => {
    const c = embedConfig({ link, name: 'Ada', email: 'ada@example.com', theme: 'dark' });
    expect(c.name).to.equal('Ada');
    expect(c.email).to.equal('ada@example.com');
    expect(c.theme).to.equal('dark');
    expect(c.utm_source).to.equal('news');
    expect(c['metadata[cb_nonce]']).to.equal(nonce);
    expect(c['metadata[cb_fbclid]']).to.equal('fb.1');
    expect(embedConfig({ link, theme: 'auto' })).to.not.have.property('theme');
  });
});
