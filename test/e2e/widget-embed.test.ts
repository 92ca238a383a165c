/**
 * <calbridge-booking> against the real product (Cal.com sandbox + server + embedded
 * database, started as `npm start` does) in Debian Chromium: accessibility in every state,
 * keyboard-only use, consent before any request to Cal.com, a booking made in the framed
 * sandbox page linked to its consent receipt once the signed webhook lands, foreign frame
 * messages ignored, and the session endpoint's refusals.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startClientSite, type ClientSite } from '../support/client-site.js';
import { freePort, repoRoot, startProduct, type RunningProduct } from '../support/product.js';

// axe-core is the widget's dev dependency; its UMD build is injected into each page as a script.
const axeSource = readFileSync(createRequire(join(repoRoot, 'widget', 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

let product: RunningProduct;
let browser: Browser;
let calOrigin: string;
let admin: Record<string, string>;
/** The client's website (test/support/client-site.ts), its origin registered for the demo tenant. */
let site: ClientSite;

beforeAll(async () => {
  product = await startProduct();
  browser = await launchChromium();
  calOrigin = new URL(product.sandboxUrl!).origin;
  admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
  site = await startClientSite(product, ['demo']);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

interface HostOptions {
  mode?: 'inline' | 'popup' | 'floating';
  tenant?: string;
  attrs?: string;
}

interface Host {
  page: Page;
  /** Every URL the page (and its frames) requested, in order. */
  requests: string[];
  /** The element's events, as the host page saw them (type and detail). */
  events(): Promise<Array<{ type: string; detail: any }>>;
}

let pageCount = 0;

/**
 * A client's page on its own origin (registered for the demo tenant), loading widget.js from
 * the product like the README's snippet; everything but the page itself is the real product.
 */
async function openHost(options: HostOptions = {}): Promise<Host> {
  const { mode = 'inline', tenant = 'demo', attrs = '' } = options;
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const path = `/page-${++pageCount}.html`;
  site.pages.set(path, {
    html: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A client's website</title>
<script type="module" src="${product.url}/widget.js"></script></head>
<body><main><h1>Book an appointment</h1>
<p><button id="before" type="button">Something before the widget</button></p>
<calbridge-booking tenant="${tenant}" mode="${mode}" ${attrs}><a href="${calOrigin}/demo/intro-call">Book on the booking page</a></calbridge-booking>
</main>
<script>
  window.__events = [];
  for (const type of ['calbridge-ready', 'calbridge-consent', 'calbridge-open', 'calbridge-close', 'calbridge-booked', 'calbridge-error'])
    document.addEventListener(type, (e) => window.__events.push({ type, detail: e.detail }));
</script></body></html>`,
  });
  await page.goto(`${site.origin}${path}`);
  return { page, requests, events: () => page.evaluate(() => (window as any).__events) };
}

/** Runs axe over the page (shadow DOM included; the third-party Cal frame is not ours and is left out). */
async function axeViolations(page: Page): Promise<Array<{ id: string; nodes: number }>> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => (window as any).axe.run(document, { iframes: false, resultTypes: ['violations'] }));
  return result.violations.map((v: { id: string; nodes: unknown[] }) => ({ id: v.id, nodes: v.nodes.length }));
}

/** A description of the focused element, looking through shadow roots. */
const focused = (page: Page) =>
  page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el ? `${el.tagName.toLowerCase()}${el.getAttribute('part') ? `[part=${el.getAttribute('part')}]` : ''}:${(el.textContent ?? '').trim().slice(0, 40)}` : 'none';
  });

/** Presses Tab until the focused element matches, at most `max` times. */
async function tabTo(page: Page, pattern: RegExp, max = 15): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (pattern.test(await focused(page))) return;
  }
  throw new Error(`Tab never reached ${pattern} (last: ${await focused(page)})`);
}

/** An HTTP server on `port` passing every request on to the running product. */
async function forwarder(port: number): Promise<Server> {
  const pass = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const h of ['origin', 'content-type', 'authorization', 'if-none-match']) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const r = await fetch(`${product.url}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    const out: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    res.writeHead(r.status, out).end(Buffer.from(await r.arrayBuffer()));
  };
  const server = createServer((req, res) => void pass(req, res));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

const toCal = (requests: string[]) => requests.filter((u) => u.startsWith(calOrigin));

/** The framed sandbox booking page once it has rendered its form. */
async function calFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('calbridge-booking iframe', { state: 'attached', timeout: 30_000 });
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('the embed iframe has no content frame');
  await frame.waitForSelector('#booking-form', { timeout: 30_000 });
  return frame;
}

describe('<calbridge-booking> on a client page, against the sandbox', () => {
  it('when the consent form shows, then axe finds nothing, and no request has reached the Cal origin', async () => {
    const { page, requests } = await openHost();
    try {
      await page.waitForSelector('calbridge-booking form[part=consent]');
      expect(await axeViolations(page)).toEqual([]);
      // The form is real: a fieldset with a legend, the policy link, one primary button.
      expect(await page.locator('calbridge-booking fieldset legend').count()).toBe(1);
      expect(await page.locator('calbridge-booking form a[href]').getAttribute('href')).toBe(`${product.url.replace('127.0.0.1', 'localhost')}/privacy`);
      expect(await page.locator('calbridge-booking form button').count()).toBe(1);
      await page.waitForTimeout(500);
      expect(toCal(requests)).toEqual([]);
      expect(await page.locator('iframe').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('when the visitor consents with the keyboard alone, then loading is announced, axe finds nothing while loading, and the Cal frame starts only with the consent', async () => {
    const { page, requests } = await openHost();
    try {
      await page.waitForSelector('calbridge-booking form[part=consent]');
      // Hold the session answer so the loading state can be checked.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/v1/widget/demo/sessions', async (route) => {
        await held;
        await route.continue();
      });
      await tabTo(page, /^button\[part=button\]:Agree/);
      expect(toCal(requests)).toEqual([]);
      await page.keyboard.press('Enter');
      await page.waitForFunction(() =>
        /Loading/.test(document.querySelector('calbridge-booking')!.shadowRoot!.querySelector('[role=status]')!.textContent ?? ''),
      );
      // The frame starts together with the session request (its metadata carries the nonce
      // the request carries), not after the answer: it is there while the answer is held.
      await page.waitForSelector('calbridge-booking iframe', { state: 'attached' });
      expect(await axeViolations(page)).toEqual([]);
      release();

      await calFrame(page);
      // Nothing went to Cal.com before the consent (checked above); with it, the session
      // request and the frame both went out (in either order: they start at the same click).
      expect(requests.some((u) => u.endsWith('/v1/widget/demo/sessions'))).toBe(true);
      expect(toCal(requests).length).toBeGreaterThan(0);
      // The frame does not wait for the session answer: the consent event may come after it.
      await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'calbridge-consent'));
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('when the popup is opened, used and closed with the keyboard alone, then focus moves into the dialog, stays trapped, and returns to the trigger', async () => {
    const { page, events } = await openHost({ mode: 'popup' });
    try {
      await page.waitForSelector('calbridge-booking button[part=trigger]');
      // Focus reaching the trigger loads the popup's code; then it is ready.
      await tabTo(page, /^button\[part=trigger\]/);
      await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'calbridge-ready'));
      await page.keyboard.press('Enter');
      await page.waitForSelector('calbridge-booking dialog[open]');
      expect(await focused(page)).toMatch(/^button\[part=close-button\]/);
      expect(await page.locator('calbridge-booking dialog').getAttribute('aria-labelledby')).toBe('title');
      await page.waitForSelector('calbridge-booking dialog form[part=consent]');
      expect(await axeViolations(page)).toEqual([]);

      // Tab and Shift+Tab never leave the dialog (guards at both ends send focus round).
      const inDialog = () =>
        page.evaluate(() => {
          const host = document.querySelector('calbridge-booking')!;
          return document.activeElement === host && !!host.shadowRoot!.activeElement?.closest('dialog');
        });
      for (const key of ['Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
        await page.keyboard.press(key);
        expect(await inDialog(), `after ${key}: ${await focused(page)}`).toBe(true);
      }

      // Consent inside the dialog, by keyboard; the booking page loads in the dialog.
      await tabTo(page, /^button\[part=button\]:Agree/);
      await page.keyboard.press('Enter');
      await calFrame(page);
      expect(await inDialog()).toBe(true);
      expect(await axeViolations(page)).toEqual([]);

      await page.keyboard.press('Escape');
      await page.waitForSelector('calbridge-booking dialog:not([open])', { state: 'attached' });
      expect(await focused(page)).toMatch(/^button\[part=trigger\]/);
      // The dialog's close event (which the element reports) is a queued task; focus may already be back before it.
      await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'calbridge-close'));

      // Again, closed with the close button this time (a target of at least 24×24 CSS px).
      await page.keyboard.press('Enter');
      await page.waitForSelector('calbridge-booking dialog[open]');
      expect(await focused(page)).toMatch(/^button\[part=close-button\]/);
      const box = (await page.locator('calbridge-booking button[part=close-button]').boundingBox())!;
      expect(Math.min(box.width, box.height)).toBeGreaterThanOrEqual(24);
      await page.keyboard.press('Enter');
      await page.waitForSelector('calbridge-booking dialog:not([open])', { state: 'attached' });
      expect(await focused(page)).toMatch(/^button\[part=trigger\]/);
      const types = (await events()).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['calbridge-open', 'calbridge-consent', 'calbridge-close']));
    } finally {
      await page.close();
    }
  });

  it('when a booking is made in the framed sandbox page, then calbridge-booked fires and, once the signed webhook lands, the booking is linked to the consent receipt', async () => {
    const { page, events } = await openHost({ attrs: 'name="Ada Lovelace" email="ada@example.com"' });
    try {
      await page.click('calbridge-booking form[part=consent] button');
      const frame = await calFrame(page);
      expect(await frame.inputValue('#name')).toBe('Ada Lovelace');
      await frame.click('.slots label');
      await frame.click('#submit');
      await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'calbridge-booked'), undefined, { timeout: 30_000 });
      const all = await events();
      const booked = all.find((e) => e.type === 'calbridge-booked')!.detail;
      const consent = all.find((e) => e.type === 'calbridge-consent')!.detail;
      expect(booked).toMatchObject({ eventType: 'intro-call' });
      expect(booked.uid).toMatch(/^[1-9A-HJ-NP-Za-km-z]{22}$/);
      expect(Date.parse(booked.startTime)).toBeLessThan(Date.parse(booked.endTime));
      await page.waitForFunction(
        () => /confirmed/.test(document.querySelector('calbridge-booking')!.shadowRoot!.querySelector('[role=status]')!.textContent ?? ''),
      );

      // The sandbox signs and sends BOOKING_CREATED to the server; poll the admin view until it is there.
      let body: any;
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${product.url}/v1/admin/tenants/demo/bookings/${booked.uid}`, { headers: admin });
        if (res.status === 200) {
          body = await res.json();
          if (body.consent) break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).toMatchObject({ uid: booked.uid, status: 'accepted', metadata: { calbridge_tenant: 'demo', cb_nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) } });
      // Linked because the booking's metadata carries the session's nonce (cb_nonce, put there by the widget), not because the page said so.
      expect(body.consent).toMatchObject({ receiptId: consent.consentReceiptId, linkedBy: 'booking_nonce', purposes: consent.purposes });
      expect(body.events.map((e: { trigger: string }) => e.trigger)).toContain('BOOKING_CREATED');
    } finally {
      await page.close();
    }
  });

  it('when a well-formed booking message is posted from another origin or from the page itself, then the element ignores it', async () => {
    const { page, events, requests } = await openHost();
    try {
      await page.click('calbridge-booking form[part=consent] button');
      await calFrame(page);
      const message = {
        originator: 'CAL',
        type: 'bookingSuccessfulV2',
        namespace: 'calbridge1',
        fullType: 'CAL:calbridge1:bookingSuccessfulV2',
        data: { uid: 'forged-uid-0000000000001', title: 'x', startTime: '2026-12-01T09:00:00.000Z', endTime: '2026-12-01T09:30:00.000Z', eventTypeId: 1, status: 'ACCEPTED', paymentRequired: false, isRecurring: false },
      };
      const attacker = 'http://attacker.test';
      await page.route(`${attacker}/frame.html`, (route) =>
        route.fulfill({ contentType: 'text/html', body: `<!doctype html><script>parent.postMessage(${JSON.stringify(message)}, '*')</script>` }),
      );
      await page.evaluate((src) => {
        const f = document.createElement('iframe');
        f.src = src;
        f.title = 'another site';
        document.body.append(f);
      }, `${attacker}/frame.html`);
      await page.waitForResponse(`${attacker}/frame.html`);
      await page.evaluate((m) => window.postMessage(m, '*'), message);
      await page.waitForTimeout(1000);
      expect((await events()).map((e) => e.type)).not.toContain('calbridge-booked');
      expect(requests.filter((u) => u.includes('/bookings/observed'))).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('when the tenant is unknown, then an accessible error with a retry and the fallback link shows', async () => {
    const { page, events } = await openHost({ tenant: 'no-such-tenant' });
    try {
      await page.waitForSelector('calbridge-booking [part=error]');
      expect(await page.locator('calbridge-booking [part=error] p').textContent()).toBe('This booking page is not available.');
      expect(await page.locator('calbridge-booking [part=error] button').textContent()).toMatch(/Try again/);
      expect(await page.locator('calbridge-booking a[href$="/demo/intro-call"]').isVisible()).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
      expect((await events()).find((e) => e.type === 'calbridge-error')?.detail).toMatchObject({ code: 'tenant_not_found', status: 404 });
    } finally {
      await page.close();
    }
  });

  it('when the server is down, then an accessible error with a retry and the fallback link shows, and retry recovers once it is back', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const { page, events } = await openHost({ attrs: `server="${down}"` });
    try {
      await page.waitForSelector('calbridge-booking [part=error]');
      expect(await page.locator('calbridge-booking [part=error] p').textContent()).toBe('The booking service is unreachable.');
      expect(await page.locator('calbridge-booking a[href$="/demo/intro-call"]').isVisible()).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
      expect((await events()).find((e) => e.type === 'calbridge-error')?.detail).toMatchObject({ code: 'network_error' });

      // The server comes back on that address (a forwarder to the running product), and Try again, by keyboard, recovers.
      const back = await forwarder(Number(new URL(down).port));
      try {
        await tabTo(page, /^button\[part=button\]:Try again/);
        await page.keyboard.press('Enter');
        await page.waitForSelector('calbridge-booking form[part=consent]');
      } finally {
        await new Promise((r) => back.close(r));
      }
    } finally {
      await page.close();
    }
  });
});

describe('POST /v1/widget/:tenant/bookings/observed on the running product', () => {
  const registered = () => product.url; // http://127.0.0.1:<port>, registered by npm start
  const otherRegistered = () => product.url.replace('127.0.0.1', 'localhost');
  const mint = async (tenant = 'demo', origin = registered()) => {
    const res = await fetch(`${product.url}/v1/widget/${tenant}/sessions`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ consent: { version: (await config(tenant)).consent.version, purposes: ['booking'] }, context: { pageUrl: `${origin}/book`, referrer: '', utm: {} } }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { token: string };
  };
  const config = async (tenant: string) => (await fetch(`${product.url}/v1/widget/${tenant}/config`)).json();
  const observe = (tenant: string, origin: string, token: string) =>
    fetch(`${product.url}/v1/widget/${tenant}/bookings/observed`, {
      method: 'POST',
      headers: { origin, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ uid: 'replayed-booking-1' }),
    });

  beforeAll(async () => {
    const res = await fetch(`${product.url}/v1/admin/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ slug: 'e2e-other', name: 'Another client', allowedOrigins: [registered()], calLink: 'demo/intro-call' }),
    });
    expect(res.status).toBe(201);
  });

  it('when a token is replayed for another tenant, then 403 session_wrong_tenant', async () => {
    const { token } = await mint();
    const res = await observe('e2e-other', registered(), token);
    expect(res.status).toBe(403);
    expect((await res.json()).code).toBe('session_wrong_tenant');
  });

  it("when a token is replayed from another of the tenant's origins, then 403 session_wrong_origin", async () => {
    const { token } = await mint();
    const res = await observe('demo', otherRegistered(), token);
    expect(res.status).toBe(403);
    expect((await res.json()).code).toBe('session_wrong_origin');
  });

  it('when the request comes from an origin the tenant did not register, then 403 origin_not_allowed for minting and for observing', async () => {
    const { token } = await mint();
    const res = await observe('demo', 'https://evil.test', token);
    expect(res.status).toBe(403);
    expect((await res.json()).code).toBe('origin_not_allowed');
    const minted = await fetch(`${product.url}/v1/widget/demo/sessions`, {
      method: 'POST',
      headers: { origin: 'https://evil.test', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(minted.status).toBe(403);
    expect((await minted.json()).code).toBe('origin_not_allowed');
  });

  // An expired token (401 session_expired) needs a clock the test controls: covered in
  // server/src/sessions/sessions.test.ts against the same app with a manual clock.
});
