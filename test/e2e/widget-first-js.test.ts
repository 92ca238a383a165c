/**
 * Issue 15: the JavaScript a page fetches before the visitor's first interaction, counted from
 * outside (a page loaded and left alone), in every mode, against the real product (sandbox +
 * server + embedded database) in Debian Chromium: every script the page fetched, gzip -9 of
 * each body, must total ≤ 10 KiB (10,240 B). The element's own chunk loads on the first
 * pointer or focus on it, so a consent click or key press that comes before it has loaded must
 * be kept and acted on once (docs/decisions/0026-first-js.md). The classic `loader.js` form
 * (loader.js + widget.js) is held to the same 10 KiB (docs/decisions/0032-loader-form-budget.md).
 * So is a page whose consent manager (`consent="tcf"`/`"gcm"`) has not granted consent: the
 * element watches it from widget.js, with no chunk of its own (docs/decisions/0038-consent-manager-in-widget-js.md).
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startClientSite, type ClientSite } from '../support/client-site.js';
import { startProduct, type RunningProduct } from '../support/product.js';

const GOAL = 10_240;
/** axe-core, as the widget's own tests use it (injected by the driver, after the count). */
const AXE = createRequire(new URL('../../widget/package.json', import.meta.url)).resolve('axe-core/axe.min.js');

/** WCAG 2.x A/AA violations axe finds inside the element (shadow DOM included). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(c: Element, o: object): Promise<{ violations: Array<{ id: string }> }> } }).axe;
    const r = await axe.run(document.querySelector('calbridge-booking')!, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.map((v) => v.id);
  });
}

let product: RunningProduct;
let browser: Browser;
let site: ClientSite;

beforeAll(async () => {
  product = await startProduct();
  browser = await launchChromium();
  site = await startClientSite(product, ['demo', 'demo-native']);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

/**
 * The page's consent manager, as its own inline script (not fetched, so not counted):
 * an IAB TCF v2.2 CMP (`__tcfapi`, IAB TCF v2.2 CMP API: `addEventListener` answers at once with
 * `listenerId`, `removeEventListener` by that id), showing its banner or with a decision stored,
 * or Google Consent Mode (gtag.js's snippet: `dataLayer` and a `gtag` that pushes its arguments),
 * with only a `default` or with an `update` the visitor gave on an earlier visit.
 */
const CMP = {
  tcf: (stored: 'none' | 'granted') => `<script>
  window.__tcfListeners = new Map(); var next = 0;
  window.__tcfapi = function (command, version, cb, id) {
    if (command === 'addEventListener') {
      var listenerId = next++;
      window.__tcfListeners.set(listenerId, cb);
      cb(${stored === 'granted' ? `{ tcString: 'CP', gdprApplies: true, eventStatus: 'tcloaded', listenerId: listenerId, purpose: { consents: { 1: true }, legitimateInterests: {} } }` : `{ gdprApplies: true, eventStatus: 'cmpuishown', listenerId: listenerId, purpose: { consents: {}, legitimateInterests: {} } }`}, true);
    } else if (command === 'removeEventListener') cb(window.__tcfListeners.delete(id), true);
  };
</script>`,
  gcm: (stored: 'none' | 'granted') => `<script>
  window.dataLayer = window.dataLayer || [];
  function gtag() { dataLayer.push(arguments); }
  gtag('consent', 'default', { functionality_storage: 'denied', ad_storage: 'denied', analytics_storage: 'denied' });
  ${stored === 'granted' ? `gtag('consent', 'update', { functionality_storage: 'granted' });` : ''}
  window.__nativePush = dataLayer.push;
</script>`,
};

/** A script the page fetched: gzip -9 of its body, and as it came over the wire (its encoding and bytes). */
type Script = { url: string; gzip: number; encoding: string | undefined; wire: number };

let n = 0;
/**
 * A client page with one element in `mode`, in the README's module form or its `loader.js` form,
 * optionally with a consent manager the element is told to read (`consent`).
 */
async function openPage(
  mode: string,
  form: 'module' | 'loader' = 'module',
  cmp?: { consent: 'tcf' | 'gcm'; stored: 'none' | 'granted' },
): Promise<{ page: Page; scripts: () => Promise<Script[]> }> {
  const path = `/first-js-${++n}.html`;
  const script = form === 'loader' ? `<script src="${product.url}/loader.js" async></script>` : `<script type="module" src="${product.url}/widget.js"></script>`;
  site.pages.set(path, {
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A client's website</title>${cmp ? CMP[cmp.consent](cmp.stored) : ''}${script}</head>
<body><main><h1>Book an appointment</h1><calbridge-booking tenant="${mode === 'native' ? 'demo-native' : 'demo'}" mode="${mode}"${cmp ? ` consent="${cmp.consent}"` : ''}></calbridge-booking></main></body></html>`,
  });
  const page = await browser.newPage();
  const seen: Array<Promise<Script>> = [];
  page.on('response', (r) => {
    if (r.request().resourceType() === 'script')
      seen.push(
        r.body().then(async (b) => ({
          url: r.url(),
          gzip: gzipSync(b, { level: 9 }).length,
          encoding: r.headers()['content-encoding'],
          wire: (await r.request().sizes()).responseBodySize,
        })),
      );
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __events: Array<{ type: string; detail: unknown }> };
    w.__events = [];
    for (const type of ['calbridge-ready', 'calbridge-consent', 'calbridge-error'])
      document.addEventListener(type, (e) => w.__events.push({ type, detail: (e as CustomEvent).detail }));
  });
  await page.goto(`${site.origin}${path}`);
  return { page, scripts: () => Promise.all(seen) };
}

const events = (page: Page, type: string) =>
  page.evaluate((t) => (window as unknown as { __events: Array<{ type: string; detail: unknown }> }).__events.filter((e) => e.type === t).map((e) => e.detail), type);

/** The page is loaded and left alone: the element said it is ready and the network has gone quiet. */
async function leftAlone(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __events: Array<{ type: string }> }).__events.some((e) => e.type === 'calbridge-ready'));
  await page.waitForLoadState('networkidle');
}

const isLazyChunk = (url: string) => /\/chunks\/calbridge-booking\.lazy-[\w-]+\.js$/.test(url);

/** Holds the element's lazy chunk until `release()`; `requested` resolves when the page asks for it. */
async function holdLazyChunk(page: Page): Promise<{ requested: Promise<void>; release: () => Promise<void> }> {
  let asked!: () => void;
  const requested = new Promise<void>((r) => (asked = r));
  let held: Route | undefined;
  await page.route((url: URL) => isLazyChunk(url.href), (route) => {
    held = route;
    asked();
  });
  return { requested, release: async () => held?.continue() };
}

describe('<calbridge-booking>: JavaScript before the first interaction', () => {
  it.each(['inline', 'native', 'popup', 'floating'])(
    'when a page with the README snippet in %s mode is loaded and left alone, then every script it fetched totals at most 10 KiB gzip and the consent step (or the button) is there',
    async (mode) => {
      const { page, scripts } = await openPage(mode);
      try {
        await leftAlone(page);
        const fetched = await scripts();
        const total = fetched.reduce((a, s) => a + s.gzip, 0);
        console.log(`${mode}: ${total} B gzip before the first interaction (${fetched.map((s) => `${new URL(s.url).pathname} ${s.gzip}, ${s.wire} B ${s.encoding ?? 'plain'} on the wire`).join(', ')})`);
        expect(fetched.map((s) => new URL(s.url).pathname)).toEqual(['/widget.js']);
        expect(total).toBeLessThanOrEqual(GOAL);
        // What the visitor downloads: the build's brotli copy (Chromium accepts it), within the goal too.
        expect(fetched.map((s) => s.encoding)).toEqual(['br']);
        expect(fetched.reduce((a, s) => a + s.wire, 0)).toBeLessThanOrEqual(GOAL);
        // What the visitor needs first is there, with its accessible name, from widget.js alone.
        if (mode === 'inline' || mode === 'native') await expect(page.getByRole('button', { name: 'Agree and show calendar' }).isVisible()).resolves.toBe(true);
        else await expect(page.getByRole('button', { name: 'Book a call' }).isVisible()).resolves.toBe(true);
        expect(await events(page, 'calbridge-ready')).toEqual([{ tenant: mode === 'native' ? 'demo-native' : 'demo', mode }]);
        expect(await axeViolations(page)).toEqual([]);
      } finally {
        await page.close();
      }
    },
    60_000,
  );

  it('when the classic loader.js form is used and the page is left alone, then it fetches loader.js and widget.js only, together at most 10 KiB gzip', async () => {
    const { page, scripts } = await openPage('inline', 'loader');
    try {
      await leftAlone(page);
      const fetched = await scripts();
      const total = fetched.reduce((a, s) => a + s.gzip, 0);
      console.log(`inline, loader.js form: ${total} B gzip before the first interaction (${fetched.map((s) => `${new URL(s.url).pathname} ${s.gzip}`).join(', ')})`);
      expect(fetched.map((s) => new URL(s.url).pathname).sort()).toEqual(['/loader.js', '/widget.js']);
      expect(fetched.some((s) => isLazyChunk(s.url))).toBe(false);
      expect(fetched.map((s) => s.encoding)).toEqual(['br', 'br']);
      expect(fetched.reduce((a, s) => a + s.wire, 0)).toBeLessThanOrEqual(GOAL);
      // Issue 15 counts every script: the classic form too (decision 0032).
      expect(total).toBeLessThanOrEqual(GOAL);
      // The consent step is there from these two scripts alone.
      await expect(page.getByRole('button', { name: 'Agree and show calendar' }).isVisible()).resolves.toBe(true);
    } finally {
      await page.close();
    }
  }, 60_000);

  it.each([
    ['tcf', 'module'],
    ['tcf', 'loader'],
    ['gcm', 'module'],
    ['gcm', 'loader'],
  ] as const)(
    'when a page whose consent manager (%s) has not granted consent is left alone (%s form), then it fetches no more than the same page without one: at most 10 KiB gzip, the consent step there and the manager watched',
    async (consent, form) => {
      const { page, scripts } = await openPage('inline', form, { consent, stored: 'none' });
      try {
        await leftAlone(page);
        const fetched = await scripts();
        const total = fetched.reduce((a, s) => a + s.gzip, 0);
        console.log(`inline, consent="${consent}", ${form} form: ${total} B gzip before the first interaction (${fetched.map((s) => `${new URL(s.url).pathname} ${s.gzip}`).join(', ')})`);
        expect(fetched.map((s) => new URL(s.url).pathname).sort()).toEqual(form === 'loader' ? ['/loader.js', '/widget.js'] : ['/widget.js']);
        expect(total).toBeLessThanOrEqual(GOAL);
        // The element is watching the consent manager (so a later grant will be seen), from widget.js alone.
        if (consent === 'tcf') expect(await page.evaluate(() => (window as unknown as { __tcfListeners: Map<number, unknown> }).__tcfListeners.size)).toBe(1);
        else expect(await page.evaluate(() => { const w = window as unknown as { dataLayer: unknown[]; __nativePush: unknown }; return w.dataLayer.push !== w.__nativePush; })).toBe(true);
        // Until the visitor decides, the element's own consent step is there, usable by keyboard.
        const agree = page.getByRole('button', { name: 'Agree and show calendar' });
        await expect(agree.isVisible()).resolves.toBe(true);
        expect(await events(page, 'calbridge-consent')).toEqual([]);
        expect(await axeViolations(page)).toEqual([]);
        for (let i = 0; i < 10 && !(await agree.evaluate((b) => b.matches(':focus'))); i++) await page.keyboard.press('Tab');
        await expect(agree.evaluate((b) => b.matches(':focus'))).resolves.toBe(true);
      } finally {
        await page.close();
      }
    },
    60_000,
  );

  it.each(['tcf', 'gcm'] as const)(
    'when the visitor already agreed in the page\'s consent manager (%s) on an earlier visit, then the booking page is framed without a click and the receipt names the manager',
    async (consent) => {
      const { page } = await openPage('inline', 'loader', { consent, stored: 'granted' });
      try {
        await page.waitForFunction(() => (window as unknown as { __events: Array<{ type: string }> }).__events.some((e) => e.type === 'calbridge-consent'), undefined, { timeout: 30_000 });
        const frame = await (await page.waitForSelector('calbridge-booking iframe', { state: 'attached', timeout: 30_000 })).contentFrame();
        await frame!.waitForSelector('#booking-form', { timeout: 30_000 });
        const consents = (await events(page, 'calbridge-consent')) as Array<{ source: string; purposes: string[] }>;
        expect(consents).toHaveLength(1);
        expect(consents[0]!.source).toBe(consent);
        expect(await events(page, 'calbridge-error')).toEqual([]);
        // Nothing of ours is left on the consent manager once it has granted.
        if (consent === 'tcf') expect(await page.evaluate(() => (window as unknown as { __tcfListeners: Map<number, unknown> }).__tcfListeners.size)).toBe(0);
        else expect(await page.evaluate(() => { const w = window as unknown as { dataLayer: unknown[]; __nativePush: unknown }; return w.dataLayer.push === w.__nativePush; })).toBe(true);
        expect(await axeViolations(page)).toEqual([]);
      } finally {
        await page.close();
      }
    },
    60_000,
  );

  it('when the consent button is clicked before the element has its code (no pointer came first), then the click is kept: one session, and the booking page is framed', async () => {
    const { page } = await openPage('inline');
    try {
      await leftAlone(page);
      const chunk = await holdLazyChunk(page);
      // A click with no pointer movement before it (a script, an assistive technology): no pointerover, no focus.
      await page.evaluate(() => document.querySelector('calbridge-booking')!.shadowRoot!.querySelector<HTMLButtonElement>('form[part=consent] button')!.click());
      await chunk.requested;
      // While the chunk is on its way, the consent step is still shown and nothing was recorded.
      expect(await page.getByRole('button', { name: 'Agree and show calendar' }).isVisible()).toBe(true);
      expect(await events(page, 'calbridge-consent')).toEqual([]);
      expect(await axeViolations(page)).toEqual([]);
      await chunk.release();
      await page.waitForFunction(() => (window as unknown as { __events: Array<{ type: string }> }).__events.some((e) => e.type === 'calbridge-consent'), undefined, { timeout: 15_000 });
      const frame = await (await page.waitForSelector('calbridge-booking iframe', { state: 'attached', timeout: 30_000 })).contentFrame();
      await frame!.waitForSelector('#booking-form', { timeout: 30_000 });
      const consents = (await events(page, 'calbridge-consent')) as Array<{ source: string; purposes: string[] }>;
      expect(consents).toHaveLength(1);
      expect(consents[0]!.source).toBe('widget');
      expect(await events(page, 'calbridge-error')).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('when a keyboard user tabs to the consent button and presses Enter while the code is still loading, then the key press is kept and native mode shows its free times', async () => {
    const { page } = await openPage('native');
    try {
      await leftAlone(page);
      const chunk = await holdLazyChunk(page);
      // Tab from the top of the page until the agree button has focus (focus reaching the element starts the load).
      for (let i = 0; i < 10; i++) {
        await page.keyboard.press('Tab');
        const name = await page.evaluate(() => {
          let el = document.activeElement;
          while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
          return el?.textContent?.trim() ?? '';
        });
        if (name === 'Agree and show calendar') break;
      }
      expect(await page.evaluate(() => document.querySelector('calbridge-booking')!.shadowRoot!.activeElement?.textContent?.trim())).toBe('Agree and show calendar');
      await chunk.requested;
      await page.keyboard.press('Enter');
      expect(await events(page, 'calbridge-consent')).toEqual([]);
      await chunk.release();
      await page.waitForSelector('calbridge-booking .slots button', { timeout: 30_000 });
      const consents = (await events(page, 'calbridge-consent')) as Array<{ source: string }>;
      expect(consents).toHaveLength(1);
      expect(consents[0]!.source).toBe('widget');
      expect(await events(page, 'calbridge-error')).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
