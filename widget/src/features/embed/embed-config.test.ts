import { CALBRIDGE_TENANT_METADATA_KEY } from '@calbridge/shared';
import { expect } from '@open-wc/testing';
import { bookingMetadata, embedConfig, METADATA_LIMITS } from './embed-config.js';

const link = { tenant: 'acme', sessionId: 'ses_1', consentReceiptId: 'rcpt_1', utm: { source: 'news', campaign: 'x'.repeat(900) } };

describe('booking metadata', () => {
  it('should link the booking to tenant, session, receipt and UTM within Cal.com limits', () => {
    const m = bookingMetadata(link);
    expect(Object.keys(m)).to.deep.equal([CALBRIDGE_TENANT_METADATA_KEY, 'cb_session', 'cb_receipt', 'cb_utm_source', 'cb_utm_campaign']);
    expect(Object.keys(m).length).to.be.at.most(METADATA_LIMITS.keys);
    for (const [k, v] of Object.entries(m)) {
      expect(k.length).to.be.at.most(METADATA_LIMITS.keyLength);
      expect(v.length).to.be.at.most(METADATA_LIMITS.valueLength);
    }
    expect(m.cb_utm_campaign).to.have.length(500);
  });

  it('should build the embed config with prefill, UTM query parameters and metadata entries', () => {
    const c = embedConfig({ link, name: 'Ada', email: 'ada@example.com', theme: 'dark' });
    expect(c.name).to.equal('Ada');
    expect(c.email).to.equal('ada@example.com');
    expect(c.theme).to.equal('dark');
    expect(c.utm_source).to.equal('news');
    expect(c['metadata[cb_receipt]']).to.equal('rcpt_1');
    expect(embedConfig({ link, theme: 'auto' })).to.not.have.property('theme');
  });
});
