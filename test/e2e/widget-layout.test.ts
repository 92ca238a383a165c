/**
 * The README's inline snippet, exactly as written, on a client page with content after it,
 * against the real product (sandbox booking page, server, embedded database) in Debian
 * Chromium: from the page's load through the consent click to the booking page loaded and
 * sized, no layout shift at all is recorded, counting those after input too (issue 15,
 * decision 0028). The booking page is taller than the box, so it scrolls inside its frame:
 * the keyboard reaches its last control there, and leaves the frame again.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startClientSite, type ClientSite } from '../support/client-site.js';
import { repoRoot, startProduct, type RunningProduct } from '../support/product.js';

const axeSource = readFileSync(createRequire(join(repoRoot, 'widget', 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

let product: RunningProduct;
let browser: Browser;
let site: ClientSite;

/** The README's "Put it on a website" lines, with only the host and the tenant's slug filled in. */
const readmeSnippet = (bff: string) => `<script type="module" src="${bff}/widget.js"></script>
<style>calbridge-booking:not(:defined) { display: block; min-height: 700px; }</style>
<calbridge-booking tenant="demo" event="intro-call"></calbridge-booking>`;

beforeAll(async () => {
  product = await startProduct();
  browser = await launchChromium();
  site = await startClientSite(product, ['demo']);
  // Text and a link after the element: whatever the element's height does moves them.
  site.pages.set('/book.html', {
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A client's website</title></head>
<body><main><h1>Book an appointment</h1>
${readmeSnippet(product.url)}
<h2>Visit us</h2>${'<p class="after">Opening hours, our address and the rest of the page follow the booking area.</p>'.repeat(4)}
<p><a href="#contact" id="contact">Contact us</a></p>
</main></body></html>`,
  });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

/**
 * Runs before any of the page's scripts: records every layout shift from the first paint on
 * (those within 500 ms of an input too, which CLS leaves out), and each size the framed page
 * reports (`__dimensionChanged`), so the test can wait until the frame has asked to be resized.
 */
const RECORDER = `
  window.__shifts = [];
  window.__sized = [];
  const record = (list) => { for (const e of list) window.__shifts.push({ value: e.value, input: e.hadRecentInput, at: Math.round(e.startTime) }); };
  window.__shiftObserver = new PerformanceObserver((l) => record(l.getEntries()));
  window.__shiftObserver.observe({ type: 'layout-shift', buffered: true });
  window.__takeShifts = () => { record(window.__shiftObserver.takeRecords()); return window.__shifts; };
  addEventListener('message', (e) => { if (e.data && e.data.type === '__dimensionChanged') window.__sized.push(e.data.data.iframeHeight); });
`;

/** Every layout shift so far, after two rendered frames (entries of the last one included). */
const shifts = (p: Page) =>
  p.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return (window as any).__takeShifts() as Array<{ value: number; input: boolean; at: number }>;
  });

const focused = (p: Page) =>
  p.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el ? `${el.tagName.toLowerCase()}#${el.id}` : 'none';
  });

async function axeViolations(p: Page): Promise<Array<{ id: string; nodes: number }>> {
  if (!(await p.evaluate(() => 'axe' in window))) await p.addScriptTag({ content: axeSource });
  const result = await p.evaluate(() => (window as any).axe.run(document, { iframes: false, resultTypes: ['violations'] }));
  return result.violations.map((v: { id: string; nodes: unknown[] }) => ({ id: v.id, nodes: v.nodes.length }));
}

describe("the README's inline snippet on a client page", () => {
  it('when the visitor consents and the booking page loads and reports its height, then nothing on the page shifts, inputs included; the taller booking page scrolls inside its frame, where the keyboard reaches its last control and leaves again', async () => {
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await p.addInitScript(RECORDER);
      await p.goto(`${site.origin}/book.html`);
      await p.waitForSelector('calbridge-booking form[part=consent]');
      expect(await axeViolations(p)).toEqual([]);

      // A real click (an input: shifts after it count here too).
      await p.click('calbridge-booking form[part=consent] button');
      const handle = await p.waitForSelector('calbridge-booking iframe', { state: 'attached' });
      const frame = (await handle.contentFrame()) as Frame;
      // Visible once the page said linkReady; the element's loading text is gone once it has.
      await frame.waitForSelector('#booking-form');
      await p.waitForFunction(() => !document.querySelector('calbridge-booking')!.shadowRoot!.querySelector('.frame > p'));
      // The booking page has asked to be as tall as it is, and it is taller than the box.
      await p.waitForFunction(() => (window as any).__sized.length > 0);
      const asked = Math.max(...((await p.evaluate(() => (window as any).__sized)) as number[]));
      const box = await p.evaluate(() => document.querySelector('calbridge-booking')!.getBoundingClientRect().height);
      expect(box).toBe(700);
      expect(asked).toBeGreaterThan(box);

      expect(await shifts(p)).toEqual([]);

      // The booking page scrolls inside its frame: the keyboard reaches its last control, which
      // scrolls into the frame's view, and Tab then leaves the frame for the rest of the page.
      const inner = await frame.evaluate(() => ({ content: document.documentElement.scrollHeight, view: innerHeight }));
      expect(inner.content).toBeGreaterThan(inner.view);
      for (let i = 0; i < 20 && (await frame.evaluate(() => document.activeElement?.id)) !== 'submit'; i++) await p.keyboard.press('Tab');
      const submit = await frame.evaluate(() => {
        const r = document.getElementById('submit')!.getBoundingClientRect();
        return { focused: document.activeElement?.id, top: r.top, bottom: r.bottom, view: innerHeight, scrolled: scrollY };
      });
      expect(submit.focused).toBe('submit');
      expect(submit.scrolled).toBeGreaterThan(0);
      expect(submit.top).toBeGreaterThanOrEqual(0);
      expect(submit.bottom).toBeLessThanOrEqual(submit.view);
      await p.keyboard.press('Tab');
      expect(await focused(p)).toBe('a#contact');
      await p.keyboard.press('Shift+Tab');
      expect(await frame.evaluate(() => document.activeElement?.id)).toBe('submit');
      expect(await axeViolations(p)).toEqual([]);
      // Keyboard use scrolled the frame, never the page's layout.
      expect(await shifts(p)).toEqual([]);

      // The recorder sees shifts on this page: a block put before the text after the element moves it.
      await p.evaluate(() => document.querySelector('h2')!.before(Object.assign(document.createElement('div'), { style: 'height:40px' })));
      await p.waitForFunction(() => (window as any).__takeShifts().length > 0);
    } finally {
      await p.close();
    }
  }, 60_000);
});
