import { expect } from '@open-wc/testing';
import { CreateSessionRequest, CreateSessionResponse } from '@calbridge/shared';
import { makeNonce, pageContext, readSession, urlPrefill } from './session.js';
import { SessionNonce } from '@calbridge/shared';

const valid = {
  token: 'eyJhbGciOi.x.y',
  sessionId: 'ses_1',
  consentReceiptId: 'rcpt_1',
  expiresAt: '2026-11-25T12:00:00.000Z',
  scopes: ['bookings:observe'],
};

const samples: [string, unknown][] = [
  ['a session', valid],
  ['an offset expiry', { ...valid, expiresAt: '2026-11-25T13:00:00+01:00' }],
  ['an expiry without zone', { ...valid, expiresAt: '2026-11-25T12:00:00' }],
  ['a word for expiry', { ...valid, expiresAt: 'soon' }],
  ['an unknown scope', { ...valid, scopes: ['admin'] }],
  ['the native booking scope', { ...valid, scopes: ['bookings:observe', 'bookings:create'] }],
  ['an empty token', { ...valid, token: '' }],
  ['no receipt', { ...valid, consentReceiptId: undefined }],
  ['a string', 'token'],
];

describe('readSession', () => {
  for (const [name, sample] of samples)
    it(`should agree with the shared zod schema on ${name}`, () => {
      expect(readSession(sample) !== null).to.equal(CreateSessionResponse.safeParse(sample).success);
    });
});

describe('pageContext', () => {
  it('should keep UTM parameters but drop the query, fragment and the referrer path', () => {
    const url = new URL('https://shop.example/contact?utm_source=news&utm_campaign=winter&email=ada%40example.com#top');
    const ctx = pageContext(url, 'https://search.example/results?q=ada');
    expect(ctx).to.deep.equal({
      pageUrl: 'https://shop.example/contact',
      referrer: 'https://search.example',
      utm: { source: 'news', campaign: 'winter' },
      clickIds: {},
    });
    expect(CreateSessionRequest.safeParse({ consent: { version: 'v1', purposes: ['booking'] }, context: ctx }).success).to.equal(true);
  });

  it('should read gclid and fbclid for attribution, clipped to 500 characters', () => {
    const url = new URL(`https://shop.example/?gclid=${'g'.repeat(600)}&fbclid=IwAR0abc`);
    const ctx = pageContext(url, '');
    expect(ctx.clickIds).to.deep.equal({ gclid: 'g'.repeat(500), fbclid: 'IwAR0abc' });
    const body = { nonce: makeNonce(), consent: { version: 'v1', purposes: ['booking'], source: 'widget' }, context: ctx };
    expect(CreateSessionRequest.safeParse(body).success).to.equal(true);
  });
});

describe('makeNonce', () => {
  it('should make 32 random bytes in base64url that the shared contract accepts, different each time', () => {
    const a = makeNonce();
    expect(a).to.have.length(43);
    expect(SessionNonce.safeParse(a).success).to.equal(true);
    expect(makeNonce()).to.not.equal(a);
  });
});

describe('urlPrefill', () => {
  it('should read name and email from the page URL and nothing else', () => {
    expect(urlPrefill(new URL('https://shop.example/?name=Ada%20Lovelace&email=ada%40example.com&phone=1'))).to.deep.equal({ name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(urlPrefill(new URL('https://shop.example/?name=%20'))).to.deep.equal({});
  });

  it('should drop an unparsable referrer', () => {
    expect(pageContext(new URL('https://shop.example/'), 'not a url').referrer).to.equal('');
  });
});
