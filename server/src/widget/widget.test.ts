import { Tenant, WidgetConfig } from '@calbridge/shared';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { consentTextHash, DEFAULT_CONSENT_SETTINGS } from './widget.service.js';

let t: TestApp;
const ORIGIN = 'https://www.dental.test';
const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const consentV1 = {
  version: 'v1',
  text: 'We load the booking calendar from Cal.com once you agree.',
  purposes: [
    { id: 'booking', required: true, label: 'Load the calendar and book' },
    { id: 'newsletter', required: false, label: 'Send me the practice newsletter' },
  ],
};

// A widget build of two files, enough to check how the static files are served.
const widgetDir = mkdtempSync(join(tmpdir(), 'calbridge-widget-'));
writeFileSync(join(widgetDir, 'widget.js'), 'export {};\n');
writeFileSync(join(widgetDir, 'loader.js'), '(function(){})();\n');
mkdirSync(join(widgetDir, 'chunks'));
writeFileSync(join(widgetDir, 'chunks', 'embed-chunk-B08obSnP.js'), 'export {};\n');
writeFileSync(join(widgetDir, 'index.html'), '<!doctype html><title>demo</title>\n');

beforeAll(async () => {
  t = await createTestApp({ env: { CALCOM_APP_URL: 'https://cal.example.test', PUBLIC_URL: 'https://calbridge.test', CALBRIDGE_WIDGET_DIR: widgetDir } });
});
afterAll(async () => {
  await t.close();
  rmSync(widgetDir, { recursive: true, force: true });
});

let n = 0;
async function tenant(widget?: unknown): Promise<string> {
  const slug = `dental-${++n}`;
  const res = await request(t.app)
    .post('/v1/admin/tenants')
    .set(asAdmin)
    .send({ slug, name: 'Dental', allowedOrigins: [ORIGIN], calLink: 'dental/check-up', ...(widget ? { widget } : {}) });
  expect(res.status).toBe(201);
  return slug;
}
const patch = (slug: string, widget: unknown) => request(t.app).patch(`/v1/admin/tenants/${slug}`).set(asAdmin).send({ widget });
const config = (slug: string) => request(t.app).get(`/v1/widget/${slug}/config`).set('Origin', ORIGIN);

describe('per-tenant widget settings', () => {
  it('when a tenant set nothing, then the config shows the defaults and its privacy link opens the privacy page', async () => {
    const slug = await tenant();
    const res = await config(slug);
    const body = WidgetConfig.parse(res.body);
    expect(body).toMatchObject({ theme: 'auto', modes: ['inline', 'popup', 'floating'], defaultEvent: 'check-up' });
    expect(body.consent).toEqual({ ...DEFAULT_CONSENT_SETTINGS, privacyPolicyUrl: 'https://calbridge.test/privacy' });

    const page = await request(t.app).get('/privacy');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('what the booking widget stores');
  });

  it('when an admin sets the widget settings, then the tenant shows them and the public config carries them', async () => {
    const slug = await tenant();
    const widget = { consent: consentV1, privacyPolicyUrl: 'https://www.dental.test/privacy', theme: 'dark', modes: ['popup'], defaultEvent: 'cleaning' };
    const res = await patch(slug, widget);
    expect(res.status).toBe(200);
    expect(Tenant.parse(res.body).widget).toEqual(widget);

    const body = WidgetConfig.parse((await config(slug)).body);
    expect(body).toMatchObject({ theme: 'dark', modes: ['popup'], defaultEvent: 'cleaning', calLink: 'dental' });
    expect(body.consent).toEqual({ ...consentV1, privacyPolicyUrl: 'https://www.dental.test/privacy' });
  });

  it('when the settings change, then the config ETag changes and the old one no longer gets a 304', async () => {
    const slug = await tenant();
    const before = await config(slug);
    expect((await config(slug).set('If-None-Match', before.headers.etag!)).status).toBe(304);

    expect((await patch(slug, { theme: 'light' })).status).toBe(200);
    const after = await config(slug).set('If-None-Match', before.headers.etag!);
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.body.theme).toBe('light');
  });

  it('when a patch names one member, then the others stay, and null returns a member to its default', async () => {
    const slug = await tenant({ consent: consentV1, theme: 'dark' });
    expect((await patch(slug, { modes: ['inline'] })).body.widget).toEqual({ consent: consentV1, theme: 'dark', modes: ['inline'] });
    const res = await patch(slug, { theme: null, consent: null });
    expect(res.body.widget).toEqual({ modes: ['inline'] });
    expect((await config(slug)).body.consent.version).toBe(DEFAULT_CONSENT_SETTINGS.version);
  });

  it('when the consent text changes but keeps its version, then 409 consent_version_unchanged and nothing changes', async () => {
    const slug = await tenant({ consent: consentV1 });
    const res = await patch(slug, { consent: { ...consentV1, text: 'Other words.' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('consent_version_unchanged');
    expect((await config(slug)).body.consent.text).toBe(consentV1.text);
  });

  it('when the purposes change but the version stays, then 409 consent_version_unchanged', async () => {
    const slug = await tenant({ consent: consentV1 });
    const res = await patch(slug, { consent: { ...consentV1, purposes: [consentV1.purposes[0]] } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('consent_version_unchanged');
  });

  it('when an earlier version is reused for other wording, then 409 consent_version_unchanged', async () => {
    const slug = await tenant({ consent: consentV1 });
    expect((await patch(slug, { consent: { ...consentV1, version: 'v2', text: 'Second wording.' } })).status).toBe(200);
    const res = await patch(slug, { consent: { ...consentV1, text: 'Third wording.' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('consent_version_unchanged');
    // Going back to v1 with its own wording is fine.
    expect((await patch(slug, { consent: consentV1 })).status).toBe(200);
  });

  it("when a new tenant's consent takes the default's version with other wording, then 409 consent_version_unchanged", async () => {
    const res = await request(t.app)
      .post('/v1/admin/tenants')
      .set(asAdmin)
      .send({ slug: 'dental-default-clash', name: 'D', allowedOrigins: [ORIGIN], widget: { consent: { ...consentV1, version: DEFAULT_CONSENT_SETTINGS.version } } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('consent_version_unchanged');
    expect((await request(t.app).get('/v1/admin/tenants/dental-default-clash').set(asAdmin)).status).toBe(404);
  });

  it('when the settings are malformed, then 400 invalid_request for each reason', async () => {
    const slug = await tenant();
    const bad = [
      { consent: { ...consentV1, purposes: [{ id: 'x', required: false, label: 'Optional only' }] } },
      { consent: { ...consentV1, purposes: [consentV1.purposes[0], consentV1.purposes[0]] } },
      { modes: [] },
      { modes: ['inline', 'inline'] },
      { theme: 'sepia' },
      { privacyPolicyUrl: 'javascript:alert(1)' },
      { defaultEvent: 'no spaces' },
      { unknown: true },
    ];
    for (const widget of bad) {
      const res = await patch(slug, widget);
      expect(res.status, JSON.stringify(widget)).toBe(400);
      expect(res.body.code).toBe('invalid_request');
    }
  });

  it("when a visitor consents, then the receipt names the tenant's version and text hash, and an old version is refused", async () => {
    const slug = await tenant({ consent: consentV1 });
    const mint = (version: string) =>
      request(t.app)
        .post(`/v1/widget/${slug}/sessions`)
        .set('Origin', ORIGIN)
        .set('User-Agent', CHROME_UA)
        .send({ consent: { version, purposes: ['booking'] }, context: { pageUrl: `${ORIGIN}/book`, referrer: '', utm: {} } });
    const ok = await mint('v1');
    expect(ok.status).toBe(201);
    const receipt = await t.database.owner.query('SELECT consent_version, consent_text_sha256 FROM consent_receipts WHERE id = $1', [ok.body.consentReceiptId]);
    expect(receipt.rows[0]).toEqual({ consent_version: 'v1', consent_text_sha256: consentTextHash(consentV1.text) });

    const stale = await mint(DEFAULT_CONSENT_SETTINGS.version);
    expect(stale.status).toBe(400);
    expect(stale.body.code).toBe('consent_invalid');
  });

  it('when a tenant publishes wording, then the consent history keeps the text for each version', async () => {
    const slug = await tenant({ consent: consentV1 });
    await patch(slug, { consent: { ...consentV1, version: 'v2', text: 'Second wording.' } });
    const rows = await t.database.owner.query(
      `SELECT v.version, v.text FROM widget_consent_versions v JOIN tenants t ON t.id = v.tenant_id WHERE t.slug = $1 ORDER BY v.version`,
      [slug],
    );
    expect(rows.rows).toEqual([
      { version: DEFAULT_CONSENT_SETTINGS.version, text: DEFAULT_CONSENT_SETTINGS.text },
      { version: 'v1', text: consentV1.text },
      { version: 'v2', text: 'Second wording.' },
    ]);
  });
});

describe('unknown tenants', () => {
  it('when a page asks for the config of an unknown tenant, then 404 tenant_not_found that the page may read', async () => {
    const res = await request(t.app).get('/v1/widget/no-such-tenant/config').set('Origin', 'https://www.any-client.test');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('tenant_not_found');
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('widget.js for client websites', () => {
  it('when a client page loads widget.js as a module script from another origin, then the answer allows any origin', async () => {
    const res = await request(t.app).get('/widget.js').set('Origin', 'https://www.any-client.test');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('when a hashed chunk is fetched, then it is cached for a year as immutable; widget.js and loader.js stay short-lived', async () => {
    const chunk = await request(t.app).get('/chunks/embed-chunk-B08obSnP.js').set('Origin', 'https://www.any-client.test');
    expect(chunk.status).toBe(200);
    expect(chunk.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(chunk.headers['access-control-allow-origin']).toBe('*');
    for (const path of ['/widget.js', '/loader.js']) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300, stale-while-revalidate=86400');
    }
  });

  it('when the demo page is fetched, then it carries no CORS header', async () => {
    const res = await request(t.app).get('/').set('Origin', 'https://www.any-client.test');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
