/**
 * <calbridge-booking> on the kinds of pages it gets pasted into, against the real product
 * (sandbox + server + embedded database, as `npm start` runs them) in Debian Chromium:
 * - a strict CSP (`script-src 'self' <server> 'nonce-…'`, no inline scripts, `frame-src` the
 *   Cal.com origin) in all four modes, then with Trusted Types enforced;
 * - the classic-script form (`loader.js`) beside the module form;
 * - add/remove cycles: page-wide listeners, intervals, styles and frames back to what the page
 *   had before the widget was used (the widget speaks Cal.com's frame protocol itself and
 *   leaves nothing behind).
 * Every page records CSP violations; a test passes only with none.
 */
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startClientSite, type ClientSite } from '../support/client-site.js';
import { startProduct, type RunningProduct } from '../support/product.js';

let product: RunningProduct;
let browser: Browser;
let site: ClientSite;
let calOrigin: string;

beforeAll(async () => {
  product = await startProduct();
  browser = await launchChromium();
  calOrigin = new URL(product.sandboxUrl!).origin;
  site = await startClientSite(product, ['demo', 'demo-native']);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

/** The CSP lines the README gives a site (with this run's origins). */
function strictCsp(nonce: string, trustedTypes: string | null): string {
  return [
    `default-src 'self'`,
    `script-src 'self' ${product.url} 'nonce-${nonce}'`,
    `connect-src 'self' ${product.url}`,
    `frame-src ${calOrigin}`,
    // No 'unsafe-inline': the element's stylesheets are constructable and it sizes the frame
    // (and its box) through the CSSOM; nothing adds <style> elements or style attributes.
    `style-src 'self'`,
    `img-src 'self' data:`,
    ...(trustedTypes === null ? [] : [`require-trusted-types-for 'script'`, `trusted-types ${trustedTypes}`]),
  ].join('; ');
}

let n = 0;
interface PageOptions {
  body: string;
  csp?: (nonce: string) => string;
  /** `module` (the README snippet) or `loader` (loader.js, classic and async). */
  form?: 'module' | 'loader';
}

/** Opens a client page; `violations()` lists CSP violations seen so far, `errors` page errors. */
async function openPage(o: PageOptions): Promise<{ page: Page; violations: () => Promise<string[]>; errors: string[] }> {
  const nonce = randomBytes(16).toString('base64');
  const path = `/p${++n}.html`;
  const script =
    o.form === 'loader'
      ? `<script src="${product.url}/loader.js" async nonce="${nonce}"></script>`
      : `<script type="module" src="${product.url}/widget.js" nonce="${nonce}"></script>`;
  site.pages.set(path, {
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A client's website</title>${script}</head>
<body><main><h1>Book an appointment</h1>${o.body}</main></body></html>`,
    ...(o.csp ? { csp: o.csp(nonce) } : {}),
  });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Injected by the browser driver, not the page: CSP does not apply to it.
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[]; __events: Array<{ type: string; detail: unknown }> };
    w.__violations = [];
    w.__events = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    for (const type of ['calbridge-ready', 'calbridge-consent', 'calbridge-booked', 'calbridge-error'])
      document.addEventListener(type, (e) => w.__events.push({ type, detail: (e as CustomEvent).detail }));
    // Live intervals, counted by wrapping the timer functions before any script of the page runs.
    const live = ((window as unknown as { __intervals: Set<number> }).__intervals = new Set());
    const set = window.setInterval.bind(window);
    const clear = window.clearInterval.bind(window);
    window.setInterval = ((fn: TimerHandler, ms?: number, ...args: unknown[]) => {
      const id = set(fn, ms, ...args);
      live.add(id);
      return id;
    }) as typeof window.setInterval;
    window.clearInterval = ((id?: number) => {
      if (id !== undefined) live.delete(id);
      clear(id);
    }) as typeof window.clearInterval;
  });
  await page.goto(`${site.origin}${path}`);
  return { page, errors, violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations) };
}

/** From the consent click to the booking page (framed modes) or the first free times (native). */
async function bookThrough(page: Page, mode: string): Promise<void> {
  const host = `calbridge-booking[mode=${mode}]`;
  if (mode === 'popup' || mode === 'floating') await page.click(`${host} button[part=trigger]`);
  await page.click(`${host} form[part=consent] button`, { timeout: 15_000 });
  if (mode === 'native') {
    await page.waitForSelector(`${host} .slots button`, { timeout: 30_000 });
    return;
  }
  const frame = await (await page.waitForSelector(`${host} iframe`, { state: 'attached', timeout: 30_000 })).contentFrame();
  await frame!.waitForSelector('#booking-form', { timeout: 30_000 });
}

/**
 * Waits until the framed booking page in `host` is ready and the page has stopped moving
 * (focus moving to the element scrolls the page), so a click aimed at another element lands there.
 */
async function frameSettled(page: Page, host: string): Promise<void> {
  await page.waitForFunction((h) => {
    const root = document.querySelector(h)?.shadowRoot;
    return !!root?.querySelector('.frame iframe') && !root.querySelector('.frame > p');
  }, host);
  await page.waitForFunction(
    (h) => {
      const w = window as unknown as { __stable?: number; __last?: string };
      const r = document.querySelector(h)!.getBoundingClientRect();
      const now = `${r.y},${r.height},${scrollY}`;
      w.__stable = now === w.__last ? (w.__stable ?? 0) + 1 : 0;
      w.__last = now;
      return w.__stable >= 3;
    },
    host,
    { polling: 'raf' },
  );
}

const element = (mode: string) => `<calbridge-booking tenant="${mode === 'native' ? 'demo-native' : 'demo'}" mode="${mode}"></calbridge-booking>`;

/** The element in `mode` on a strict page (Trusted Types policies `trustedTypes`, or none) takes the visitor to the booking page with no CSP violation and no page error. */
async function booksWithoutViolation(mode: string, trustedTypes: string | null): Promise<void> {
  const { page, violations, errors } = await openPage({ body: element(mode), csp: (nonce) => strictCsp(nonce, trustedTypes) });
  try {
    await bookThrough(page, mode);
    expect(await violations()).toEqual([]);
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
}

describe('<calbridge-booking> on strict pages', () => {
  it.each(['inline', 'popup', 'floating', 'native'])(
    'when a page with a strict CSP (nonce, no inline scripts, frame-src Cal.com) shows it in %s mode, then the visitor gets to the booking page with no violation',
    (mode) => booksWithoutViolation(mode, null),
    60_000,
  );

  // No `default` policy: the widget frames Cal.com's page itself (createElement, src), with no
  // HTML strings; a page whose CSP allows only these two policies works in every mode.
  it.each(['inline', 'popup', 'floating', 'native'])(
    'when Trusted Types are enforced with only the policies the README names (trusted-types lit-html calbridge), then %s mode reaches the booking page with no violation',
    (mode) => booksWithoutViolation(mode, 'lit-html calbridge'),
    60_000,
  );

  it('when the classic loader.js is used on a strict page with Trusted Types, then it works exactly like the module form, loading widget.js once', async () => {
    const body = `<calbridge-booking tenant="demo" mode="popup"></calbridge-booking>${element('inline')}`;
    const { page, violations, errors } = await openPage({ body, form: 'loader', csp: (nonce) => strictCsp(nonce, 'lit-html calbridge') });
    try {
      await bookThrough(page, 'inline');
      // The consent moved focus (and the page) down to the inline frame. Back at the top, once
      // nothing moves, the popup's trigger is where a click aims.
      await page.evaluate(() => scrollTo(0, 0));
      await frameSettled(page, 'calbridge-booking[mode=inline]');
      await bookThrough(page, 'popup');
      expect(await page.locator('script[data-calbridge-widget]').count()).toBe(1);
      expect(await page.evaluate(() => (document.querySelector('script[data-calbridge-widget]') as HTMLScriptElement).type)).toBe('module');
      expect(await violations()).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});

describe('<calbridge-booking> on pages that change', () => {
  it('when elements are added and removed 50 times (with and without a loaded frame), then page-wide listeners, intervals, styles and frames are back to what the page had before', async () => {
    const { page, violations, errors } = await openPage({ body: '<div id="slot"></div>', csp: (nonce) => strictCsp(nonce, null) });
    await page.evaluate(() => customElements.whenDefined('calbridge-booking'));
    const cdp = await page.context().newCDPSession(page);
    /** Page-wide listeners (window, document) by type, live intervals, frames, <style> elements and head links. */
    const counts = async () => {
      const listeners: Record<string, number> = {};
      for (const target of ['window', 'document']) {
        const { result } = await cdp.send('Runtime.evaluate', { expression: target });
        const { listeners: l } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId! });
        for (const x of l) listeners[`${target}:${x.type}`] = (listeners[`${target}:${x.type}`] ?? 0) + 1;
        await cdp.send('Runtime.releaseObject', { objectId: result.objectId! });
      }
      const dom = await page.evaluate(() => ({
        intervals: (window as unknown as { __intervals: Set<number> }).__intervals.size,
        iframes: document.querySelectorAll('iframe').length,
        styles: document.querySelectorAll('style').length,
        headLinks: document.head.querySelectorAll('link').length,
      }));
      return { listeners, ...dom };
    };
    const frameReady = () =>
      page.waitForFunction(() => {
        const r = (window as unknown as { __kept: HTMLElement }).__kept.shadowRoot;
        return !!r?.querySelector('iframe') && !r.querySelector('.frame > p');
      }, undefined, { timeout: 30_000 });
    try {
      // Playwright's own waits add window listeners the first time they run: let them, so the
      // figures below count only what the page and the widget add.
      await page.waitForFunction(() => true);
      const before = await counts();
      // One element with consent and a loaded frame, then removed.
      await page.evaluate(() => {
        const el = document.createElement('calbridge-booking');
        el.setAttribute('tenant', 'demo');
        (window as unknown as { __kept: HTMLElement }).__kept = el;
        document.getElementById('slot')!.append(el);
        (el as HTMLElement & { grantConsent(c: { purposes: string[] }): void }).grantConsent({ purposes: ['booking'] });
      });
      await frameReady();
      await page.evaluate(() => (window as unknown as { __kept: HTMLElement }).__kept.remove());
      const baseline = await counts();
      console.log('before the widget was used:', JSON.stringify(before), '\nafter one frame came and went (baseline):', JSON.stringify(baseline));
      // Nothing page-wide is left: the same listeners, intervals, styles and frames as before.
      // Only a <link> stays in <head>: the preconnect to Cal.com (one per page, however many
      // elements come and go).
      expect({ ...baseline, headLinks: 0 }).toEqual({ ...before, headLinks: 0 });

      // 50 times: the same consented element moved out and back in (a single-page app), its
      // frame loaded again each time, then removed.
      for (let i = 0; i < 50; i++) {
        await page.evaluate(() => document.getElementById('slot')!.append((window as unknown as { __kept: HTMLElement }).__kept));
        await frameReady();
        await page.evaluate(() => (window as unknown as { __kept: HTMLElement }).__kept.remove());
      }
      expect(await counts()).toEqual(baseline);

      // 50 fresh elements in each mode's consent step (Turbo, htmx swaps), added and removed.
      for (let i = 0; i < 50; i++) {
        const mode = ['inline', 'popup', 'floating'][i % 3]!;
        await page.evaluate((m) => {
          document.getElementById('slot')!.innerHTML = `<calbridge-booking tenant="demo" mode="${m}"></calbridge-booking>`;
        }, mode);
        await page.waitForFunction(() => !!document.querySelector('calbridge-booking')?.shadowRoot?.querySelector('form, button[part=trigger]'));
        await page.evaluate(() => document.getElementById('slot')!.replaceChildren());
      }
      expect(await counts()).toEqual(baseline);
      expect(baseline.iframes).toBe(0);
      expect(errors).toEqual([]);
      expect(await violations()).toEqual([]);
    } finally {
      await page.close();
    }
  }, 240_000);
});
