/**
 * The admin console (issue 14) against the real product, started as `npm start` does: its
 * development IdP, the server with the console at /admin, the Cal.com sandbox, in Debian
 * Chromium. Sign-in as each seeded person, the pages by their accessible names, axe on each
 * page and state, keyboard-only use, 320 px width, 24 px targets, the snippet from "Install"
 * booking on another origin and showing up live, tenant scoping, erasure, CSRF, sign-out.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { repoRoot, startProduct, type RunningProduct } from '../support/product.js';

const axeSource = readFileSync(createRequire(join(repoRoot, 'widget', 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

let product: RunningProduct;
let browser: Browser;
let consoleUrl: string;
let password: string;
/** A client's website on another origin (127.0.0.1 against the console's localhost). */
let site: Server;
let siteOrigin: string;
const sitePages = new Map<string, string>();

beforeAll(async () => {
  product = await startProduct();
  browser = await launchChromium();
  consoleUrl = product.consoleUrl;
  expect(product.devIdp).not.toBeNull();
  password = product.devIdp!.password;
  site = createServer((req, res) => {
    const body = sitePages.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(async () => {
  expect(cspViolations).toEqual([]);
  await browser?.close();
  await new Promise((r) => (site ? site.close(r) : r(undefined)));
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

/**
 * A browser context with axe-core preloaded as an init script: the pages' CSP (no inline
 * scripts) would block a script tag, and must not be loosened for the test. Any CSP violation
 * the console's own code causes is collected and must stay empty.
 */
const cspViolations: string[] = [];
async function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.addInitScript({ content: axeSource });
  context.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text()) && m.location().url.startsWith(consoleUrl)) cspViolations.push(m.text());
  });
  return context;
}

/** axe's WCAG 2.x A/AA and 2.2 rules over the page (the widget preview's shadow DOM included). */
async function axeViolations(page: Page): Promise<Array<{ id: string; targets: string[] }>> {
  const result = await page.evaluate(() =>
    (window as any).axe.run(document, { iframes: false, resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }),
  );
  return result.violations.map((v: { id: string; nodes: { target: string[] }[] }) => ({ id: v.id, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Controls (buttons, fields, navigation links) smaller than 24 × 24 CSS px: WCAG 2.2 SC 2.5.8. */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('main button, main input:not([type=hidden]), main select, main textarea, nav a, header a, header button, main .actions a, main td a, main th a')]
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 24 || r.height < 24)
      .map(({ el, r }) => `${el.tagName.toLowerCase()}#${el.id}:${(el.textContent ?? '').trim().slice(0, 30)} ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
}

/** Signs in through the development IdP's form, with the keyboard only. */
async function signIn(context: BrowserContext, email: string, path = '/admin/tenants'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${consoleUrl}${path}`);
  await page.getByLabel('Email').waitFor();
  expect(await page.getByLabel('Email').getAttribute('autocomplete')).toBe('username');
  expect(await page.getByLabel('Password').getAttribute('autocomplete')).toBe('current-password');
  expect(await axeViolations(page)).toEqual([]);
  await page.getByLabel('Email').focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${consoleUrl}${path}`);
  return page;
}

describe('admin console in Chromium, on npm start', () => {
  it('when the admin signs in through the development IdP, then the session cookie is __Host-, HttpOnly, Secure, SameSite=Lax, and "Tenants" shows every tenant, axe-clean', async () => {
    const context = await newContext();
    const page = await signIn(context, 'admin@demo.test');
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    const cookie = (await context.cookies(consoleUrl)).find((c) => c.name === '__Host-calbridge_admin');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    const table = page.getByRole('table', { name: 'Tenants' });
    await table.getByRole('link', { name: 'Demo client', exact: true }).waitFor();
    expect(await table.getByRole('link', { name: 'Demo client (native booking)' }).count()).toBe(1);
    expect(await page.getByRole('form', { name: 'New tenant' }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    expect(await smallTargets(page)).toEqual([]);
    await context.close();
  });

  it('when the admin creates a tenant with the keyboard only, then its Install page opens with the snippet, and the origin warning fixes itself in one click', async () => {
    const context = await newContext();
    const page = await signIn(context, 'admin@demo.test');
    const form = page.getByRole('form', { name: 'New tenant' });
    await form.getByLabel('Slug').focus();
    await page.keyboard.type('acme-dental');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Acme Dental');
    await page.keyboard.press('Tab');
    await page.keyboard.type('https://www.acme-dental.test');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${consoleUrl}/admin/tenants/acme-dental/install`);
    await page.getByRole('heading', { name: 'Acme Dental', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Install', level: 2 }).waitFor();
    const snippet = await page.locator('#snippet-code').textContent();
    expect(snippet).toBe(`<script type="module" src="${consoleUrl}/widget.js"></script>\n<calbridge-booking tenant="acme-dental"></calbridge-booking>`);
    expect(await page.getByRole('button', { name: 'Copy snippet' }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel("Your website's address").fill(`${siteOrigin}/book`);
    const fix = page.getByRole('button', { name: `Add ${siteOrigin} to Allowed origins` });
    await fix.waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await fix.focus();
    await page.keyboard.press('Enter');
    await page.getByText(`${siteOrigin} is allowed.`).waitFor();
    const t = await (await fetch(`${product.url}/v1/admin/tenants/acme-dental`, { headers: { authorization: `Bearer ${product.adminToken}` } })).json();
    expect(t.allowedOrigins).toEqual(['https://www.acme-dental.test', siteOrigin]);
    await context.close();
  });

  it('when a new tenant is created, connected and its Install snippet is pasted on another origin, then a booking made there through the sandbox and its lead appear in the console without a reload', async () => {
    const context = await newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await signIn(context, 'admin@demo.test');
    const form = page.getByRole('form', { name: 'New tenant' });
    await form.getByLabel('Slug').fill('bright-smiles');
    await form.getByLabel('Name').fill('Bright Smiles');
    await form.getByLabel('Allowed origins').fill('https://www.bright-smiles.test');
    await form.getByRole('button', { name: 'Create tenant' }).click();
    await page.waitForURL(`${consoleUrl}/admin/tenants/bright-smiles/install`);

    // "Cal.com connection": connect through Cal.com's OAuth (the sandbox), name the booking page, register the webhook.
    await page.getByRole('link', { name: 'Cal.com connection' }).click();
    await page.getByRole('heading', { name: 'Cal.com connection', level: 2 }).waitFor();
    await page.locator('.badge.status-disconnected').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Connect with Cal.com' }).click();
    await page.getByText('Bright Smiles is connected to Cal.com as demo').waitFor();
    await page.goto(`${consoleUrl}/admin/tenants/bright-smiles/calcom`);
    await page.getByRole('heading', { name: 'Cal.com connection', level: 2 }).waitFor();
    await page.locator('.badge.status-connected').waitFor();
    await page.getByLabel('Cal link').fill('demo/intro-call');
    await page.getByRole('button', { name: 'Save booking page' }).click();
    await page.getByText('Save booking page: done.').waitFor();
    await page.getByRole('button', { name: 'Register webhook' }).click();
    await page.getByText('Register webhook: done.').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    // One Cal.com account serves one site (decision 0034): the account can be let go, and connected again.
    await page.getByRole('button', { name: 'Disconnect Cal.com account' }).click();
    await page.getByText('Disconnect Cal.com account: done.').waitFor();
    await page.locator('.badge.status-disconnected').waitFor();
    await page.getByRole('link', { name: 'Connect with Cal.com' }).click();
    await page.getByText('Bright Smiles is connected to Cal.com as demo').waitFor();
    await page.goto(`${consoleUrl}/admin/tenants/bright-smiles/calcom`);
    await page.locator('.badge.status-connected').waitFor();

    // "Install": the site's origin goes into "Allowed origins" with the one-click fix; the snippet is copied.
    await page.getByRole('link', { name: 'Install' }).click();
    await page.getByLabel("Your website's address").fill(siteOrigin);
    await page.getByRole('button', { name: `Add ${siteOrigin} to Allowed origins` }).click();
    await page.getByText(`${siteOrigin} is allowed.`).waitFor();
    await page.getByLabel('Prefill name').fill('Grace Hopper');
    await page.getByLabel('Prefill email').fill('grace@example.com');
    await page.getByRole('button', { name: 'Copy snippet' }).click();
    await page.getByText('Snippet copied to the clipboard.').waitFor();
    const snippet = await page.evaluate(() => navigator.clipboard.readText());
    expect(snippet).toContain('tenant="bright-smiles"');

    // The console stays open on "Bookings" while the visitor books elsewhere.
    await page.getByRole('link', { name: 'Bookings' }).click();
    await page.getByRole('table', { name: 'Bookings' }).getByText('No bookings.').waitFor();
    expect(await axeViolations(page)).toEqual([]);

    sitePages.set('/book', `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bright Smiles</title></head><body><main><h1>Book</h1>${snippet}</main></body></html>`);
    const visitor = await browser.newPage();
    await visitor.goto(`${siteOrigin}/book`);
    await visitor.click('calbridge-booking form[part=consent] button');
    const handle = await visitor.waitForSelector('calbridge-booking iframe', { state: 'attached', timeout: 30_000 });
    const frame = (await handle.contentFrame())!;
    await frame.waitForSelector('#booking-form', { timeout: 30_000 });
    await frame.click('.slots label');
    await frame.click('#submit');

    // No reload: the Server-Sent Events stream tells the page, which fetches the list again.
    await page.getByRole('table', { name: 'Bookings' }).getByText('grace@example.com').waitFor({ timeout: 30_000 });
    // Filters by email, and a booking opens with its history and consent receipt.
    const filters = page.getByRole('form', { name: 'Filter bookings' });
    await filters.getByLabel('Email').fill('nobody@example.com');
    await filters.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('table', { name: 'Bookings' }).getByText('No bookings.').waitFor();
    await filters.getByLabel('Email').fill('grace@example.com');
    await filters.getByRole('button', { name: 'Filter' }).click();
    const detail = page.getByRole('region', { name: /^Booking / });
    // The receipt is linked once the webhook lands with the session's nonce in the booking's metadata: open it until it is.
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: /^Open booking / }).first().click();
        await detail.getByText('BOOKING_CREATED').waitFor();
        return (await detail.getByLabel('Consent receipt').textContent()) ?? '';
      })
      .toContain('booking_nonce');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Leads' }).click();
    await page.getByRole('table', { name: 'Leads, highest score first' }).getByText('grace@example.com').waitFor({ timeout: 30_000 });
    expect(await axeViolations(page)).toEqual([]);
    // The rules' preview shows how current leads would rescore, before anything is saved.
    await page.getByLabel('Rules (JSON)').fill(JSON.stringify({ rules: [{ id: 'everyone', points: 7, when: { kind: 'email_domain', is: 'company' } }, { id: 'any', points: 5, when: { kind: 'email_domain', is: 'free' } }], bands: [{ grade: 'A', min: 1 }] }));
    await page.getByRole('button', { name: 'Preview rescoring' }).click();
    await page.getByRole('table', { name: 'How current leads would rescore' }).getByText('grace@example.com').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Webhook deliveries' }).click();
    await page.getByRole('table', { name: 'Webhook deliveries, newest first (updates live)' }).getByText('BOOKING_CREATED').waitFor();
    // "Reprocess" applies the stored delivery again: already applied, so nothing changes.
    await page.getByRole('button', { name: /^Reprocess delivery/ }).first().click();
    await page.getByText(/reprocessed: processed, nothing changed\./).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await visitor.close();
    await context.close();
  });

  it('when the admin makes an admin token from "Admin tokens", then it is shown once, works as a bearer token, and "Revoke" ends it', async () => {
    const context = await newContext({ viewport: { width: 320, height: 640 } });
    const page = await signIn(context, 'admin@demo.test');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Admin tokens' }).click();
    await page.getByRole('heading', { name: 'Admin tokens', level: 1 }).waitFor();
    const form = page.getByRole('form', { name: 'New admin token' });
    await form.getByLabel('Label').fill('deploy script');
    await form.getByLabel('Tenant (slug; empty: every tenant)').fill('demo');
    await form.getByRole('button', { name: 'Make token' }).click();
    const token = (await page.locator('code.secret').textContent())!;
    expect(token).toMatch(/^cbt_/);
    expect(await axeViolations(page)).toEqual([]);
    expect(await smallTargets(page)).toEqual([]);
    expect((await fetch(`${product.url}/v1/admin/tenants/demo`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke deploy script' }).click();
    await page.getByText(/revoked/).waitFor();
    expect((await fetch(`${product.url}/v1/admin/tenants/demo`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    await context.close();
  });

  it('when a manager of demo signs in, then "Tenants" lists demo only, and another tenant by URL shows "Not allowed"', async () => {
    const context = await newContext();
    const page = await signIn(context, 'manager@demo.test');
    const table = page.getByRole('table', { name: 'Tenants' });
    await table.getByRole('link', { name: 'Demo client', exact: true }).waitFor();
    expect(await table.getByRole('row').count()).toBe(2);
    expect(await page.getByRole('form', { name: 'New tenant' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Admin tokens' }).count()).toBe(0);
    await page.goto(`${consoleUrl}/admin/tenants/demo-native/bookings`);
    await page.getByRole('heading', { name: 'Not allowed', level: 1 }).waitFor();
    expect(await page.getByText('Demo client (native booking)').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    const api = await context.request.get(`${consoleUrl}/v1/admin/tenants/demo-native`);
    expect(api.status()).toBe(403);
    await context.close();
  });

  it('when every section of a tenant is opened, then each is axe-clean, fits 320 px without sideways scrolling, and its controls are at least 24 px', async () => {
    // bright-smiles has a booking, a lead and deliveries by now: the tables are checked with rows.
    const context = await newContext({ viewport: { width: 320, height: 640 } });
    const page = await signIn(context, 'admin@demo.test', '/admin/tenants/bright-smiles/install');
    for (const name of ['Install', 'Cal.com connection', 'Bookings', 'Leads', 'Webhook deliveries', 'CRM', 'Privacy', 'Audit']) {
      await page.getByRole('navigation', { name: 'Tenant sections' }).getByRole('link', { name, exact: true }).click();
      await page.getByRole('heading', { name, level: 2 }).waitFor();
      await page.waitForFunction(() => !document.querySelector('main [role=status]')?.textContent?.startsWith('Loading'));
      expect({ name, violations: await axeViolations(page) }).toEqual({ name, violations: [] });
      expect({ name, overflow: await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth) }).toEqual({ name, overflow: 0 });
      expect({ name, small: await smallTargets(page) }).toEqual({ name, small: [] });
    }
    await context.close();
  });

  it('when a subject is erased from "Privacy" with the keyboard, then the confirmation dialog names what goes, and the receipt shows afterwards', async () => {
    const context = await newContext();
    const page = await signIn(context, 'admin@demo.test', '/admin/tenants/bright-smiles/privacy');
    const requests = page.getByRole('region', { name: 'Subject requests' });
    await requests.getByLabel('Email of the person').fill('grace@example.com');
    await requests.getByRole('button', { name: 'Find' }).click();
    await requests.getByRole('button', { name: 'Export' }).waitFor();
    const download = page.waitForEvent('download');
    await requests.getByRole('button', { name: 'Export' }).click();
    expect((await download).suggestedFilename()).toBe('subject-export-bright-smiles.json');

    await requests.getByRole('button', { name: 'Erase' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Erase grace@example.com?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('their lead and its score');
    expect(await axeViolations(page)).toEqual([]);
    // Escape closes it and focus goes back to "Erase".
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.activeElement?.id === 'erase-button');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Erase' }).focus();
    await page.keyboard.press('Enter');
    const receipt = page.getByRole('region', { name: 'Erasure receipt' });
    await receipt.waitFor();
    expect(await receipt.textContent()).toMatch(/[0-9a-f]{64}/);
    expect(await axeViolations(page)).toEqual([]);
    const audit = await (await fetch(`${product.url}/v1/admin/tenants/bright-smiles/audit`, { headers: { authorization: `Bearer ${product.adminToken}` } })).json();
    expect(audit.data[0]).toMatchObject({ action: 'subject.erase', actor: { kind: 'console_session', subject: 'dev-admin' } });
    // The bookings table no longer shows the person.
    await page.getByRole('link', { name: 'Bookings' }).click();
    await page.getByRole('table', { name: 'Bookings' }).waitFor();
    expect(await page.getByRole('table', { name: 'Bookings' }).getByText('grace@example.com').count()).toBe(0);
    await context.close();
  });

  it("when another site POSTs to the console's API, then it is refused: no cookie goes cross-site, and a forged Origin gets csrf_rejected", async () => {
    const context = await newContext();
    const page = await signIn(context, 'admin@demo.test');
    sitePages.set('/attack', `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Attack</title></head><body>
<form id="f" method="post" action="${consoleUrl}/v1/admin/tenants" enctype="text/plain"><input name='{"slug":"evil","name":"x","allowedOrigins":[],"p":"' value='"}'></form></body></html>`);
    const attacker = await context.newPage();
    await attacker.goto(`${siteOrigin}/attack`);
    const [response] = await Promise.all([attacker.waitForResponse(`${consoleUrl}/v1/admin/tenants`), attacker.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
    expect(response.status()).toBe(401);
    const forged = await context.request.post(`${consoleUrl}/v1/admin/tenants`, { headers: { origin: siteOrigin, 'content-type': 'application/json' }, data: { slug: 'evil', name: 'x', allowedOrigins: [] } });
    expect(forged.status()).toBe(403);
    expect((await forged.json()).code).toBe('csrf_rejected');
    const missing = await fetch(`${product.url}/v1/admin/tenants/evil`, { headers: { authorization: `Bearer ${product.adminToken}` } });
    expect(missing.status).toBe(404);
    await page.close();
    await context.close();
  });

  it('when the person signs out, then the IdP confirms, the console says signed out, and the old cookie opens nothing', async () => {
    const context = await newContext();
    const page = await signIn(context, 'admin@demo.test');
    const before = (await context.cookies(consoleUrl)).find((c) => c.name === '__Host-calbridge_admin')!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.origin === new URL(product.devIdp!.issuer).origin);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${consoleUrl}/admin/signed-out`);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    const replay = await fetch(`${product.url}/v1/admin/tenants`, { headers: { cookie: `${before.name}=${before.value}` } });
    expect(replay.status).toBe(401);
    await context.close();
  });
});
