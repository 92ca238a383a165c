import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { repoRoot, startProduct, type RunningProduct } from '../support/product.js';

// Native mode end to end: the demo page served by `npm start`, Debian Chromium driven with the
// keyboard alone, the Cal.com sandbox behind the server. The booking must reach the sandbox,
// our bookings, and pass axe in every state the visitor sees.

let product: RunningProduct;
let browser: Browser;

const AXE = join(repoRoot, 'widget', 'node_modules', 'axe-core', 'axe.min.js');
const HOST = 'calbridge-booking[tenant="demo-native"]';

beforeAll(async () => {
  product = await startProduct();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

/** What has focus, looking through shadow roots, and which widget it is in. */
const focused = (page: Page) =>
  page.evaluate(() => {
    let el = document.activeElement;
    const host = el?.closest('calbridge-booking')?.getAttribute('tenant') ?? null;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return { host, tag: el?.tagName ?? '', text: el?.textContent?.trim() ?? '', role: el?.getAttribute('role') ?? null, id: el?.id ?? '', part: el?.getAttribute('part') ?? null, day: el?.getAttribute('data-day') ?? null, selected: el?.getAttribute('aria-selected') ?? null };
  });

/** Presses Tab until `pred` holds for the focused element; fails after `max` presses. */
async function tabTo(page: Page, pred: (f: Awaited<ReturnType<typeof focused>>) => boolean, what: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (pred(await focused(page))) return;
  }
  throw new Error(`Tab never reached ${what}; focus is on ${JSON.stringify(await focused(page))}`);
}

/** axe's WCAG 2.x A/AA rules over the native element, shadow DOM included. */
async function axeViolations(page: Page): Promise<string[]> {
  return page.evaluate(async (sel) => {
    const host = document.querySelector(sel)!;
    for (const a of host.shadowRoot!.getAnimations()) a.finish();
    const r = await (window as unknown as { axe: { run(e: Element, o: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe.run(host, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, HOST);
}

const admin = () => ({ authorization: `Bearer ${product.adminToken}` });

describe('native booking in Chromium, keyboard only', () => {
  it('when a visitor books with the keyboard alone, then the booking is in the sandbox and in our bookings, and axe passes in each state', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${product.url}/`);
    // The demo page's CSP (rightly) refuses an injected <script>; the test's axe runs through the debugger instead.
    await page.evaluate(readFileSync(AXE, 'utf8'));
    await page.evaluate(() => {
      const w = window as unknown as { booked: unknown[]; widgetErrors: unknown[] };
      w.booked = [];
      w.widgetErrors = [];
      document.addEventListener('calbridge-booked', (e) => w.booked.push((e as CustomEvent).detail));
      document.addEventListener('calbridge-error', (e) => w.widgetErrors.push((e as CustomEvent).detail));
    });
    await page.locator(`${HOST} form button`).waitFor({ timeout: 15_000 });

    // Consent: reached and given with Tab and Enter.
    expect(await axeViolations(page)).toEqual([]);
    await tabTo(page, (f) => f.host === 'demo-native' && f.text.startsWith('Agree'), 'the consent button of the native widget');
    await page.keyboard.press('Enter');

    // The picker: a grid of days, free times as buttons.
    await page.locator(`${HOST} calbridge-native-booking .slots button`).first().waitFor({ timeout: 15_000 });
    expect(await axeViolations(page)).toEqual([]);
    await tabTo(page, (f) => f.role === 'gridcell', 'the day grid');
    const first = await focused(page);
    expect(first.selected).toBe('true');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    expect((await focused(page)).day).toBe(first.day);
    await page.keyboard.press('Enter');
    const slot = await focused(page);
    expect(slot.part).toBe('slot');
    await page.keyboard.press('Enter');

    // The form: name and email typed, then Enter submits.
    await expect.poll(async () => (await focused(page)).id).toBe('name');
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.type('Keyboard Visitor');
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('email');
    await page.keyboard.type('keyboard.visitor@example.com');
    await page.keyboard.press('Enter');

    await page.locator(`${HOST} calbridge-native-booking .done`).waitFor({ timeout: 15_000 });
    expect(await axeViolations(page)).toEqual([]);
    const [booked] = (await page.evaluate(() => (window as unknown as { booked: { uid: string; startTime: string; eventType: string }[] }).booked)) as {
      uid: string;
      startTime: string;
      eventType: string;
    }[];
    expect(booked).toMatchObject({ eventType: 'intro-call' });
    expect(await page.evaluate(() => (window as unknown as { widgetErrors: unknown[] }).widgetErrors)).toEqual([]);
    expect(errors).toEqual([]);

    // In Cal.com (the sandbox): the booking exists for the managed user, tagged as ours.
    const atCal = (await (await fetch(`${product.sandboxUrl}/__sandbox/bookings`)).json()) as { uid: string; status: string; start: string; attendees: { email: string }[]; metadata: Record<string, string> }[];
    const calBooking = atCal.find((b) => b.uid === booked!.uid);
    expect(calBooking).toMatchObject({ status: 'accepted', metadata: { calbridge_tenant: 'demo-native', cb_mode: 'native' } });
    expect(calBooking!.attendees[0]!.email).toBe('keyboard.visitor@example.com');
    expect(Date.parse(calBooking!.start)).toBe(Date.parse(booked!.startTime));

    // In our bookings (admin API).
    const ours = await fetch(`${product.url}/v1/admin/tenants/demo-native/bookings/${booked!.uid}`, { headers: admin() });
    expect(ours.status).toBe(200);
    expect(await ours.json()).toMatchObject({ uid: booked!.uid, status: 'accepted' });
    await page.close();
  });
});
