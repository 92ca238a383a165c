/**
 * The sandbox's booking page inside the real `@calcom/embed-core` 1.5.3, in
 * real Chromium, on a host page of another origin, with no Calbridge code.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs';
import { SANDBOX_DEMO_API_KEY, startSandbox, type Sandbox } from './index.js';
import { callJson, startSubscriber, type Subscriber } from './test-support.js';

const WEBHOOK_SECRET = 'embed-test-secret';
const embedJs = readFileSync(createRequire(import.meta.url).resolve('@calcom/embed-core'), 'utf8');

let sandbox: Sandbox;
let subscriber: Subscriber;
let host: Server;
let hostUrl: string;
let browser: Browser;

/**
 * The host page: a `window.Cal` queue stub (embed-core needs `Cal.q` before it
 * runs; this is the minimal equivalent of Cal's official snippet), the
 * queued instructions, then embed-core itself.
 */
function hostPage(kind: 'inline' | 'modal', rescheduleUid?: string): string {
  const config = { name: 'Ada Lovelace', email: 'ada@example.com', 'metadata[tenant]': 'acme', utm_source: 'newsletter', ...(rescheduleUid ? { rescheduleUid } : {}) };
  const open =
    kind === 'inline'
      ? `Cal("inline", { elementOrSelector: "#booking", calLink: "demo/intro-call", config: ${JSON.stringify(config)} });`
      : `document.getElementById("open").addEventListener("click", function () { Cal("modal", { calLink: "demo/intro-call", config: ${JSON.stringify(config)} }); });`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host (${kind})</title></head>
<body>
<h1>Someone's website</h1>
${kind === 'modal' ? '<button id="open" type="button">Book a call</button>' : ''}
<div id="booking"></div>
<script>
  window.Cal = window.Cal || function () { (window.Cal.q = window.Cal.q || []).push(arguments); };
  window.Cal.q = window.Cal.q || [];
  window.Cal.ns = window.Cal.ns || {};
  window.__events = [];
  Cal("init", { origin: ${JSON.stringify(sandbox.url)} });
  Cal("on", { action: "bookingSuccessfulV2", callback: function (e) { window.__events.push({ type: "bookingSuccessfulV2", detail: e.detail }); } });
  Cal("on", { action: "bookingSuccessful", callback: function (e) { window.__events.push({ type: "bookingSuccessful", detail: e.detail }); } });
  Cal("on", { action: "rescheduleBookingSuccessfulV2", callback: function (e) { window.__events.push({ type: "rescheduleBookingSuccessfulV2", detail: e.detail }); } });
  Cal("on", { action: "__dimensionChanged", callback: function (e) { window.__events.push({ type: "__dimensionChanged", detail: e.detail }); } });
  ${open}
</script>
<script src="/embed.js"></script>
</body></html>`;
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  subscriber = await startSubscriber();
  host = createServer((req, res) => {
    if (req.url === '/embed.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(embedJs);
    } else if (req.url?.startsWith('/reschedule.html?uid=')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(hostPage('inline', new URL(req.url, 'http://host.invalid').searchParams.get('uid')!));
    } else if (req.url === '/inline.html' || req.url === '/modal.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(hostPage(req.url === '/inline.html' ? 'inline' : 'modal'));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  // "localhost" vs the sandbox's "127.0.0.1": a different site, not only a different port.
  hostUrl = `http://localhost:${(host.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless=new', ...CHROMIUM_ARGS],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
  await subscriber?.close();
  await sandbox?.close();
});

beforeEach(async () => {
  sandbox.control.reset();
  subscriber.received.length = 0;
  const hook = await callJson(`${sandbox.apiUrl}/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` },
    body: { subscriberUrl: subscriber.url, triggers: ['BOOKING_CREATED'], active: true, secret: WEBHOOK_SECRET },
  });
  expect(hook.status).toBe(201);
});

async function openHost(kind: 'inline' | 'modal'): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${hostUrl}/${kind}.html`);
  return { page, requests };
}

async function calFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe.cal-embed', { state: 'attached' });
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('embed iframe has no content frame');
  await frame.waitForSelector('#booking-form');
  await frameSettled(page);
  return frame;
}

/**
 * Wait until embed-core has sized the iframe from the page's report and the
 * frame has stopped moving. A click aimed before that can land on the modal's
 * backdrop once the iframe shrinks under it, and embed-core closes the modal
 * (cal-modal-box's host click handler), exactly as it would for a person.
 */
async function frameSettled(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === '__dimensionChanged'));
  await page.waitForFunction(
    () => {
      const w = window as any;
      const r = document.querySelector('iframe.cal-embed')!.getBoundingClientRect();
      const now = `${r.x},${r.y},${r.width},${r.height}`;
      w.__stableFrames = now === w.__lastRect ? (w.__stableFrames ?? 0) + 1 : 0;
      w.__lastRect = now;
      return w.__stableFrames >= 3;
    },
    undefined,
    { polling: 'raf' },
  );
}

async function bookFirstSlot(page: Page, frame: Frame): Promise<any> {
  // Prefill from the embed config reached the page through its query string.
  expect(await frame.inputValue('#name')).toBe('Ada Lovelace');
  expect(await frame.inputValue('#email')).toBe('ada@example.com');
  const start = await frame.getAttribute('.slots input[type=radio]', 'value');
  await frame.click('.slots label');
  await frame.click('#submit');
  await frame.waitForSelector('#success:not([hidden])');
  await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'bookingSuccessfulV2'));
  const events: Array<{ type: string; detail: any }> = await page.evaluate(() => (window as any).__events);
  const v2 = events.find((e) => e.type === 'bookingSuccessfulV2')!;
  expect(v2.detail.fullType).toBe('CAL::bookingSuccessfulV2');
  expect(v2.detail.data).toMatchObject({ startTime: start, status: 'ACCEPTED', paymentRequired: false, isRecurring: false, eventTypeId: 1 });
  expect(v2.detail.data.uid).toMatch(/^[1-9A-HJ-NP-Za-km-z]{22}$/);
  expect(v2.detail.data.title).toBe('Intro call between Demo User and Ada Lovelace');
  const v1 = events.find((e) => e.type === 'bookingSuccessful');
  expect(v1?.detail.data).toMatchObject({ confirmed: true, date: start, organizer: { name: 'Demo User', email: 'demo@example.com' } });
  return v2.detail.data;
}

async function expectSignedWebhook(uid: string): Promise<void> {
  const [hit] = await subscriber.waitFor(1, 10_000);
  expect(hit!.headers['x-cal-signature-256']).toBe(createHmac('sha256', WEBHOOK_SECRET).update(hit!.body).digest('hex'));
  const body = JSON.parse(hit!.body);
  expect(body.triggerEvent).toBe('BOOKING_CREATED');
  expect(body.payload).toMatchObject({ uid, metadata: { tenant: 'acme' }, attendees: [{ name: 'Ada Lovelace', email: 'ada@example.com' }] });
  const stored = sandbox.control.bookings().find((b) => b.uid === uid);
  expect(stored?.tracking).toEqual({ utm_source: 'newsletter' });
}

describe('sandbox booking page inside @calcom/embed-core', () => {
  it('when embedded inline on another origin, then it shows the page, books a slot, fires bookingSuccessfulV2 and the signed webhook', async () => {
    const { page, requests } = await openHost('inline');
    try {
      const frame = await calFrame(page);
      expect(new URL(frame.url()).pathname).toBe('/demo/intro-call/embed');
      expect(new URL(frame.url()).searchParams.get('embedType')).toBe('inline');
      // linkReady reached the parent: embed-core marks the inline element done and shows the iframe.
      await page.waitForSelector('cal-inline[loading="done"]', { state: 'attached' });
      await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === '__dimensionChanged'));
      const height = await page.$eval('iframe.cal-embed', (el) => (el as HTMLIFrameElement).style.height);
      expect(height).toMatch(/^\d+px$/);
      expect(await frame.evaluate(() => document.body.style.visibility)).toBe('visible');

      const data = await bookFirstSlot(page, frame);
      await expectSignedWebhook(data.uid);
      // No request left the two local origins.
      const origins = new Set(requests.map((u) => new URL(u).origin));
      expect([...origins].sort()).toEqual([hostUrl, sandbox.url].sort());
    } finally {
      await page.close();
    }
  });

  it('when opened as a modal, then the modal loads the page and a booking fires bookingSuccessfulV2 and the webhook', async () => {
    const { page } = await openHost('modal');
    try {
      await page.click('#open');
      const frame = await calFrame(page);
      expect(new URL(frame.url()).searchParams.get('embedType')).toBe('modal');
      await page.waitForSelector('cal-modal-box[state="loaded"]', { state: 'attached' });
      const data = await bookFirstSlot(page, frame);
      await expectSignedWebhook(data.uid);
    } finally {
      await page.close();
    }
  });

  it('when a booking is rescheduled inside the frame, then the page fires rescheduleBookingSuccessfulV2, not bookingSuccessfulV2 (useBookings.ts)', async () => {
    const first = await openHost('inline');
    let original: any;
    try {
      original = await bookFirstSlot(first.page, await calFrame(first.page));
    } finally {
      await first.page.close();
    }
    const page = await browser.newPage();
    try {
      await page.goto(`${hostUrl}/reschedule.html?uid=${original.uid}`);
      const frame = await calFrame(page);
      expect(new URL(frame.url()).searchParams.get('rescheduleUid')).toBe(original.uid);
      await frame.click('.slots li:nth-child(2) label');
      await frame.click('#submit');
      await frame.waitForSelector('#success:not([hidden])');
      await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'rescheduleBookingSuccessfulV2'));
      const events: Array<{ type: string; detail: any }> = await page.evaluate(() => (window as any).__events);
      expect(events.some((e) => e.type === 'bookingSuccessfulV2')).toBe(false);
      const moved = events.find((e) => e.type === 'rescheduleBookingSuccessfulV2')!;
      expect(moved.detail.fullType).toBe('CAL::rescheduleBookingSuccessfulV2');
      expect(moved.detail.data.uid).not.toBe(original.uid);
      expect(sandbox.control.bookings().find((b) => b.uid === original.uid)!['status']).toBe('cancelled');
    } finally {
      await page.close();
    }
  });

  it('when a message comes from another window than the parent, then the frame ignores it', async () => {
    const { page } = await openHost('inline');
    try {
      const frame = await calFrame(page);
      await page.waitForSelector('cal-inline[loading="done"]', { state: 'attached' });
      // Posted by the frame to itself: right shape, wrong source and origin.
      // __dimensionChanged keeps arriving on its own (the frame's size settles); count the other events.
      const count = () => page.evaluate(() => (window as any).__events.filter((e: any) => e.type !== '__dimensionChanged').length);
      const before = await count();
      await frame.evaluate(() => {
        document.body.style.visibility = 'hidden';
        window.postMessage({ originator: 'CAL', method: 'parentKnowsIframeReady', arg: {} }, '*');
      });
      await frame.waitForTimeout(200);
      expect(await frame.evaluate(() => document.body.style.visibility)).toBe('hidden');
      expect(await count()).toBe(before);
    } finally {
      await page.close();
    }
  });
});
