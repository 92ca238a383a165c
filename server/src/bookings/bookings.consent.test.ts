import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { consentTextHash, DEFAULT_CONSENT_SETTINGS } from '../widget/widget.service.js';
import { bookingBody, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';

// Issue 13, finding 1: a consent receipt is linked to a booking only when the booking's own
// metadata proves it came through that widget session (its nonce), never on a page's word.

interface Vector {
  class: string;
  description: string;
  metadata: Record<string, string>;
  observe?: { by: 'attacker' | 'victim'; when: 'before' | 'after' };
  expected: { linkedTo: 'attacker' | 'victim' | null; observed?: boolean; storedKeysExclude?: string[] };
}
const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/consent-forgery-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

const SECRET = 'whsec_consent_link_000000000000000000';
const ORIGIN = 'https://www.clinic.test';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { CALCOM_APP_URL: 'https://cal.example.test', PUBLIC_URL: 'https://calbridge.test', CALBRIDGE_TRUST_PROXY: 'true' } });
  for (const slug of ['clinic', 'other']) {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [ORIGIN], calLink: `${slug}/visit` });
    expect(res.status).toBe(201);
    await setWebhookSecret(t, res.body.id, `${SECRET}${slug}`);
  }
});
afterAll(() => t.close());

interface Session { token: string; sessionId: string; consentReceiptId: string; nonce: string }
let ip = 0;
async function consent(slug = 'clinic', purposes = ['booking']): Promise<Session> {
  const nonce = randomBytes(32).toString('base64url');
  const res = await request(t.app)
    .post(`/v1/widget/${slug}/sessions`)
    .set('Origin', ORIGIN)
    .set('X-Forwarded-For', `198.51.100.${++ip}`)
    .send({ nonce, consent: { version: DEFAULT_CONSENT_SETTINGS.version, purposes, source: 'tcf' }, context: { pageUrl: `${ORIGIN}/book`, referrer: '', utm: { source: 'ads' }, clickIds: { gclid: 'g-123' } } });
  expect(res.status).toBe(201);
  return { ...res.body, nonce };
}
const booked = (uid: string, metadata: Record<string, string> = {}, slug = 'clinic') =>
  deliver(t.app, slug, bookingBody('BOOKING_CREATED', t.clock.now(), { uid, metadata }), { secret: `${SECRET}${slug}` });
const view = (uid: string, slug = 'clinic') => request(t.app).get(`/v1/admin/tenants/${slug}/bookings/${uid}`).set(asAdmin);
const observe = (s: Session, uid: string) =>
  request(t.app).post('/v1/widget/clinic/bookings/observed').set('Origin', ORIGIN).set('Authorization', `Bearer ${s.token}`).send({ uid });

describe('consent link: only the booking itself proves its session', () => {
  it.each(vectors.map((v, i) => [`${v.class}: ${v.description}`, v, i] as const))('when %s, then the link is only what the proof says', async (_n, v, i) => {
    const attacker = await consent('clinic', ['booking', 'follow_up']);
    const victim = await consent();
    const foreign = await consent('other');
    const uid = `bk-vector-${i}`;
    const fill: Record<string, string> = {
      ATTACKER_RECEIPT: attacker.consentReceiptId,
      ATTACKER_SESSION: attacker.sessionId,
      ATTACKER_NONCE_HASH: createHash('sha256').update(attacker.nonce).digest('base64url'),
      OTHER_TENANT_NONCE: foreign.nonce,
      VICTIM_NONCE: victim.nonce,
    };
    const metadata = Object.fromEntries(Object.entries(v.metadata).map(([k, val]) => [k, fill[val] ?? val]));
    const reporter = v.observe?.by === 'attacker' ? attacker : victim;

    if (v.observe?.when === 'before') expect((await observe(reporter, uid)).status).toBe(201);
    expect((await booked(uid, metadata)).status).toBe(200);
    if (v.observe?.when === 'after') expect((await observe(reporter, uid)).status).toBe(201);

    const res = await view(uid);
    expect(res.status).toBe(200);
    for (const key of v.expected.storedKeysExclude ?? []) expect(Object.keys(res.body.metadata ?? {})).not.toContain(key);
    if (v.expected.linkedTo === null) {
      expect(res.body.consent).toBeNull();
      return;
    }
    const owner = v.expected.linkedTo === 'victim' ? victim : attacker;
    expect(res.body.consent).toMatchObject({ receiptId: owner.consentReceiptId, sessionId: owner.sessionId, linkedBy: 'booking_nonce' });
    if (v.expected.observed !== undefined) expect(res.body.consent.observedAt !== null).toBe(v.expected.observed);
  });

  it('when a proven booking is viewed, then it shows the receipt of exactly the consent text shown', async () => {
    const s = await consent();
    await booked('bk-proven-full', { cb_nonce: s.nonce, cb_receipt: 'ignored' });
    expect((await view('bk-proven-full')).body.consent).toMatchObject({
      receiptId: s.consentReceiptId,
      version: DEFAULT_CONSENT_SETTINGS.version,
      textSha256: consentTextHash(DEFAULT_CONSENT_SETTINGS.text),
      purposes: ['booking'],
      pageOrigin: ORIGIN,
      linkedBy: 'booking_nonce',
    });
  });

  it('when a session is minted, then only the hash of its nonce is stored, with the consent source and click ids', async () => {
    const s = await consent();
    const { rows } = await t.database.owner.query('SELECT * FROM consent_receipts WHERE id = $1', [s.consentReceiptId]);
    expect(rows[0]).toMatchObject({ consent_source: 'tcf', click_ids: { gclid: 'g-123' } });
    expect(rows[0].nonce_sha256).toEqual(createHash('sha256').update(s.nonce).digest());
    const dump = JSON.stringify((await t.database.owner.query('SELECT * FROM consent_receipts')).rows);
    expect(dump).not.toContain(s.nonce);
  });
});
