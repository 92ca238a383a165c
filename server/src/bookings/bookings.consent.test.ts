import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { consentTextHash, DEFAULT_CONSENT_SETTINGS } from '../widget/widget.service.js';
import { bookingBody, deliver, setWebhookSecret } from '../webhooks/webhooks.test-support.js';

// The admin booking view links a booking made through the widget to the visitor's consent
// receipt: bookings ↔ observed_bookings ↔ consent_receipts, or the receipt the booking metadata names.

const SECRET = 'whsec_consent_link_000000000000000000';
const ORIGIN = 'https://www.clinic.test';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { CALCOM_APP_URL: 'https://cal.example.test', PUBLIC_URL: 'https://calbridge.test' } });
  for (const slug of ['clinic', 'other']) {
    const res = await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug, name: slug, allowedOrigins: [ORIGIN], calLink: `${slug}/visit` });
    expect(res.status).toBe(201);
    await setWebhookSecret(t, res.body.id, `${SECRET}${slug}`);
  }
});
afterAll(() => t.close());

async function consent(slug = 'clinic'): Promise<{ token: string; sessionId: string; consentReceiptId: string }> {
  const res = await request(t.app)
    .post(`/v1/widget/${slug}/sessions`)
    .set('Origin', ORIGIN)
    .send({ consent: { version: DEFAULT_CONSENT_SETTINGS.version, purposes: ['booking'] }, context: { pageUrl: `${ORIGIN}/book`, referrer: '', utm: {} } });
  expect(res.status).toBe(201);
  return res.body;
}
const booked = (uid: string, metadata: Record<string, string> = {}, slug = 'clinic') =>
  deliver(t.app, slug, bookingBody('BOOKING_CREATED', t.clock.now(), { uid, metadata }), { secret: `${SECRET}${slug}` });
const view = (uid: string, slug = 'clinic') => request(t.app).get(`/v1/admin/tenants/${slug}/bookings/${uid}`).set(asAdmin);

describe('GET /v1/admin/tenants/:slug/bookings/:uid, consent link', () => {
  it('when the widget reported the booking and then the webhook landed, then the booking shows its consent receipt linked by the widget session', async () => {
    const s = await consent();
    const observed = await request(t.app)
      .post('/v1/widget/clinic/bookings/observed')
      .set('Origin', ORIGIN)
      .set('Authorization', `Bearer ${s.token}`)
      .send({ uid: 'bk-widget-1' });
    expect(observed.status).toBe(201);
    expect((await booked('bk-widget-1', { cb_receipt: s.consentReceiptId })).status).toBe(200);

    const res = await view('bk-widget-1');
    expect(res.status).toBe(200);
    expect(res.body.consent).toMatchObject({
      receiptId: s.consentReceiptId,
      sessionId: s.sessionId,
      version: DEFAULT_CONSENT_SETTINGS.version,
      textSha256: consentTextHash(DEFAULT_CONSENT_SETTINGS.text),
      purposes: ['booking'],
      pageOrigin: ORIGIN,
      linkedBy: 'widget_session',
    });
  });

  it('when only the booking metadata names the receipt, then the link is shown as booking_metadata', async () => {
    const s = await consent();
    await booked('bk-meta-1', { cb_receipt: s.consentReceiptId });
    expect((await view('bk-meta-1')).body.consent).toMatchObject({ receiptId: s.consentReceiptId, linkedBy: 'booking_metadata', observedAt: null });
  });

  it("when the metadata names another tenant's receipt or no receipt, then the booking has no consent link", async () => {
    const foreign = await consent('other');
    await booked('bk-foreign-1', { cb_receipt: foreign.consentReceiptId });
    expect((await view('bk-foreign-1')).body.consent).toBeNull();
    await booked('bk-plain-1', { cb_receipt: 'not-a-uuid' });
    expect((await view('bk-plain-1')).body.consent).toBeNull();
  });
});
