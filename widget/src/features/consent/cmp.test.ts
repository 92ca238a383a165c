import { expect } from '@open-wc/testing';
import { gcmGrants, tcfGrants } from './cmp.js';

// What gtag() pushes: its `arguments` object.
function args(..._: unknown[]): IArguments {
  // eslint-disable-next-line prefer-rest-params
  return arguments;
}

describe('consent from the page consent manager', () => {
  it('should count TCF consent only once the CMP has a decision with purpose 1, or GDPR does not apply', () => {
    expect(tcfGrants({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { '1': true } } })).to.equal(true);
    expect(tcfGrants({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: { '1': true } } })).to.equal(true);
    expect(tcfGrants({ eventStatus: 'cmpuishown', gdprApplies: true, purpose: { consents: { '1': true } } })).to.equal(false);
    expect(tcfGrants({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { '1': false, '2': true } } })).to.equal(false);
    expect(tcfGrants({ eventStatus: 'tcloaded', gdprApplies: false })).to.equal(true);
    expect(tcfGrants({ eventStatus: 'tcloaded' })).to.equal(false);
  });

  it('should count Google Consent Mode only from the latest update of functionality_storage, never a default', () => {
    expect(gcmGrants([args('consent', 'default', { functionality_storage: 'granted' })])).to.equal(false);
    expect(gcmGrants([args('consent', 'update', { functionality_storage: 'granted' })])).to.equal(true);
    expect(gcmGrants([args('consent', 'update', { functionality_storage: 'granted' }), args('consent', 'update', { functionality_storage: 'denied' })])).to.equal(false);
    expect(gcmGrants([args('consent', 'update', { functionality_storage: 'granted' }), args('consent', 'update', { ad_storage: 'denied' })])).to.equal(true);
    expect(gcmGrants([{ event: 'gtm.js' }, null, 'x'])).to.equal(false);
    expect(gcmGrants(undefined)).to.equal(false);
  });
});
