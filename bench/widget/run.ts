// npm run bench:widget — <calbridge-booking> beside Cal.com's plain embed snippet, same run,
// same machine, same sandbox booking page. Prints figures and ratios; asserts nothing timed.
//
// 1. Builds the widget (vite, into a temporary folder) and reports the gzip size of the initial
//    widget.js (Lit included) and of the lazy chunks (no embed-core: the widget speaks Cal.com's
//    frame protocol itself), beside Cal.com's loader (embed-core's embed.js), which is what a
//    page using the plain snippet loads up front.
// 2. Starts the product as `npm start` does (sandbox + server + embedded database + demo
//    tenant), serving that widget build, and a "client website" on another local origin that
//    the demo tenant registers.
// 3. In headless Debian Chromium, BENCH_RUNS times each (default 10, median shown; the booking
//    page rows are at parity and a median of five moved by ±10 % between runs on 2 cores; ten is
//    what the README's table is, so the bench as it comes measures what the README says):
//    (Runs are spaced so the server's session rate limit is never hit: two rounds a minute.)
//    a. inline: cumulative layout shift (PerformanceObserver 'layout-shift') from page load to
//       the booking page loaded in the frame — ours through the consent click, Cal's plain
//       inline embed from page load. CLS counts shifts without recent input, as browsers
//       report it; "all shifts" adds those within 500 ms of an input. Two more pages: the README
//       snippet, whose CSS reserves the element's 700px before widget.js defines it
//       (`calbridge-booking:not(:defined)`), and one reserving the booking page's own height
//       (what it reports) there and in `--calbridge-inline-height`, so it needs no inner scroll.
//    b. popup and floating: time from the launcher click to the open dialog (ours: the native
//       <dialog> open with its first paint; Cal: its modal box attached and painted), and to the
//       booking page shown inside it (ours after the consent click, which Cal's snippet skips):
//       the page's linkReady and a frame painted after it, recorded by the page itself. Until
//       2026-12-03 this row ended when Playwright's waitForSelector next polled and found the
//       form visible, which its backoff (0, 20, 70, 170, 270 ms…) made a matter of when each
//       page's wait began (decision 0044).
//    c. native: consent click → first free times visible (compared with Cal.com's launcher click
//       → booking page loaded, goal ≤ 0.5×) and a day change → new times visible (warm data).
//    d. JavaScript fetched before the visitor's first interaction (every script and chunk, gzip
//       -9 of each body as served; the page loaded and left alone until the network is idle),
//       and everything fetched before the booking page. The element's own chunk loads on the
//       first pointer or focus on it (decision 0026): the timed clicks below come after the
//       pointer has reached the control, that chunk has arrived and run, and the pointer has
//       rested there (DWELL_MS), as a visitor's would; Cal.com's launcher is hovered the same way.
//       Every timed click lands just after a frame was painted (clickTo), and the booking page
//       rows are timed from the moment the click landed, for both pages. Before 2026-12-02 the
//       clicks came at once after the chunk's response, at a point in the frame that depended on
//       the bench's last wait, and both booking page rows counted the bench's round trip to the
//       page before the click.
//    The booking page rows are also printed as the median (and quartiles) of per-round ratios:
//    ours and Cal.com's samples of one round run back to back, so the machine's drift cancels.
//    e. INP per control: Event Timing entries (`event`, durationThreshold 16 ms) of real clicks,
//       longest per control; "< 16 ms" when no entry crossed the threshold.
// Requires built packages (`npm run build`, as `npm start` does): server/dist and test/dist.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, Frame, Page } from 'playwright-core';
import { launchChromium } from '../../test/support/browser.js';
import { startProduct, type RunningProduct } from '../../test/support/product.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Math.min(20, Math.max(1, Number(process.env.BENCH_RUNS ?? 10)));
// Each run mints three widget sessions (inline, popup, floating); the server allows ten per
// client address a minute (sessions.service.ts SESSION_LIMITS), so runs wait for a fresh window.
// Two short of the limit: a window the server counts can begin a moment before ours does.
const SESSIONS_PER_WINDOW = 8;
let sessionsThisWindow = 0;
let windowOf = Math.floor(Date.now() / 60_000);
async function sessionBudget(n: number): Promise<void> {
  if (Math.floor(Date.now() / 60_000) !== windowOf) [windowOf, sessionsThisWindow] = [Math.floor(Date.now() / 60_000), 0];
  if (sessionsThisWindow + n > SESSIONS_PER_WINDOW) {
    await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 500));
    [windowOf, sessionsThisWindow] = [Math.floor(Date.now() / 60_000), 0];
  }
  sessionsThisWindow += n;
}

for (const built of ['server/dist/main.js', 'test/dist/calcom-sandbox/cli.js'])
  if (!existsSync(join(root, built))) {
    console.error(`bench:widget needs built packages (${built} is missing): run \`npm run build\` first.`);
    process.exit(2);
  }

// ---------------------------------------------------------------------------------- sizes
const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;
const kb = (n: number) => `${(n / 1024).toFixed(2)} KiB`;
const ratio = (a: number, b: number) => (b ? `${(a / b).toFixed(2)}×` : 'n/a');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

const outDir = mkdtempSync(join(tmpdir(), 'calbridge-bench-widget-'));
execFileSync(join(root, 'widget', 'node_modules', '.bin', 'vite'), ['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
  cwd: join(root, 'widget'),
  stdio: ['ignore', 'ignore', 'inherit'],
});
const chunkDir = join(outDir, 'chunks');
const chunks = readdirSync(chunkDir).filter((f) => f.endsWith('.js'));
const size = (file: string) => {
  const b = readFileSync(file);
  return { raw: b.length, gzip: gz(b) };
};
const initial = size(join(outDir, 'widget.js'));
const chunkSize = (prefix: string) => {
  const f = chunks.find((c) => c.startsWith(prefix));
  return f ? size(join(chunkDir, f)) : { raw: 0, gzip: 0 };
};
const lazy = chunkSize('calbridge-booking.lazy');
const loaderJs = size(join(outDir, 'loader.js'));
const sessionChunk = chunkSize('session');
const embedCorePath = createRequire(join(root, 'test', 'package.json')).resolve('@calcom/embed-core');
const embedCore = readFileSync(embedCorePath, 'utf8');
const calLoader = size(embedCorePath);

// ---------------------------------------------------------------------------------- pages
let product: RunningProduct | undefined;
let site: Server | undefined;
let browser: Browser | undefined;
const pages = new Map<string, string>();

const eventsScript = `<script>
  window.__events = [];
  for (const type of ['calbridge-ready', 'calbridge-consent', 'calbridge-open', 'calbridge-close', 'calbridge-booked', 'calbridge-error'])
    document.addEventListener(type, (e) => {
      window.__events.push({ type, at: performance.now() });
      if (type === 'calbridge-error') console.error(type + ' ' + JSON.stringify(e.detail));
    });
</script>`;
// Text after the booking area: whatever the booking area does to its height moves it.
const after = '<p id="after">Opening hours, address and the rest of the page follow the booking area.</p>'.repeat(5);

/**
 * `reserve`: the host page's own CSS reserves this height for the element before widget.js has
 * defined it (module scripts run after the first paint, and an undefined element has no height),
 * and sets the element's reservation to the same (`--calbridge-inline-height`).
 */
function oursPage(mode: 'inline' | 'popup' | 'floating' | 'native', reserve?: number): string {
  const style = reserve
    ? `<style>calbridge-booking:not(:defined) { display: block; min-height: ${reserve}px; } calbridge-booking { --calbridge-inline-height: ${reserve}px; }</style>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Client site, Calbridge ${mode}</title>
<script type="module" src="${product!.url}/widget.js"></script>${style}</head>
<body><main><h1>Book an appointment</h1>
<calbridge-booking tenant="${mode === 'native' ? 'demo-native' : 'demo'}" mode="${mode}" name="Ada Lovelace" email="ada@example.com"></calbridge-booking>
${after}</main>${eventsScript}</body></html>`;
}

/**
 * An inline element told to read the page's consent manager (`consent="tcf"`/`"gcm"`), whose
 * visitor has not decided yet: a TCF v2.2 CMP showing its banner (`cmpuishown`, IAB TCF v2.2 CMP
 * API) or Google Consent Mode with only its `default` (denied). Module or `loader.js` form.
 */
function cmpPage(consent: 'tcf' | 'gcm', form: 'module' | 'loader'): string {
  const cmp =
    consent === 'tcf'
      ? `<script>var next = 0; window.__tcfapi = function (c, v, cb) { if (c === 'addEventListener') cb({ gdprApplies: true, eventStatus: 'cmpuishown', listenerId: next++, purpose: { consents: {} } }, true); else if (c === 'removeEventListener') cb(true, true); };</script>`
      : `<script>window.dataLayer = window.dataLayer || []; function gtag() { dataLayer.push(arguments); } gtag('consent', 'default', { functionality_storage: 'denied', ad_storage: 'denied' });</script>`;
  const script = form === 'loader' ? `<script src="${product!.url}/loader.js" async></script>` : `<script type="module" src="${product!.url}/widget.js"></script>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Client site, Calbridge inline, consent=${consent}</title>
${cmp}${script}</head>
<body><main><h1>Book an appointment</h1>
<calbridge-booking tenant="demo" mode="inline" consent="${consent}"></calbridge-booking>
${after}</main>${eventsScript}</body></html>`;
}

/** Every script a page fetched (gzip -9) once loaded and left alone: the consent step shown, the network idle. */
async function leftAlone(browser: Browser, path: string): Promise<number> {
  const page = await open(browser, path);
  try {
    await page.waitForSelector('calbridge-booking form[part=consent]');
    await page.waitForLoadState('networkidle');
    return await scriptBytes(page);
  } finally {
    await page.close();
  }
}

function calPage(mode: 'inline' | 'popup' | 'floating'): string {
  const config = JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.com' });
  const call =
    mode === 'inline'
      ? `Cal("inline", { elementOrSelector: "#booking", calLink: "demo/intro-call", config: ${config} });`
      : mode === 'floating'
        ? `Cal("floatingButton", { calLink: "demo/intro-call", config: ${config} });`
        : '';
  // Cal.com's plain snippet: the queue stub, init with the (sandbox) origin, then embed-core.
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Client site, Cal.com ${mode}</title></head>
<body><main><h1>Book an appointment</h1>
${mode === 'popup' ? `<button id="open" type="button" data-cal-link="demo/intro-call" data-cal-config='${config}'>Book a call</button>` : ''}
<div id="booking"></div>
${after}</main>
<script>
  window.Cal = window.Cal || function () { (window.Cal.q = window.Cal.q || []).push(arguments); };
  window.Cal.q = window.Cal.q || [];
  window.Cal.ns = window.Cal.ns || {};
  Cal("init", { origin: ${JSON.stringify(product!.sandboxUrl)} });
  ${call}
</script>
<script src="/embed.js"></script></body></html>`;
}

/** Records every layout shift from the first paint on, with whether it followed an input. */
const SHIFT_OBSERVER = `
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__shifts.push({ value: e.value, input: e.hadRecentInput, at: e.startTime });
  }).observe({ type: 'layout-shift', buffered: true });
  // The booking page shown: its own linkReady (posted once it has made itself visible; the
  // embedding page shows its frame on it, embed-core and ours alike), recorded in the page as it
  // happens, not found later by the driver's polling (decision 0044). It ends as every other row
  // of this bench does (clickTo, native): the first animation frame after the change (where a
  // per-frame check sees it), then two more.
  window.__shownAt = 0;
  addEventListener('message', (e) => {
    if (window.__linkReadyAt || !e.data || e.data.originator !== 'CAL' || e.data.type !== 'linkReady') return;
    window.__linkReadyAt = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(() => (window.__shownAt = performance.now()))));
  });
  // The heights the framed booking page asks for (its own height).
  window.__sized = [];
  addEventListener('message', (e) => { if (e.data && e.data.type === '__dimensionChanged') window.__sized.push(e.data.data.iframeHeight); });
  // Event Timing: each real input's duration (input delay + processing + next paint), kept with
  // the control label the bench set just before the click.
  window.__inp = [];
  window.__control = '';
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.interactionId) window.__inp.push({ control: window.__control, duration: e.duration, at: e.startTime });
  }).observe({ type: 'event', durationThreshold: 16, buffered: true });
`;

/** gzip -9 sizes of the scripts each page fetched (every script and chunk, ours and Cal.com's loader), in order. */
const scriptsOf = new WeakMap<Page, Array<Promise<number>>>();
const scriptBytes = async (page: Page) => (await Promise.all(scriptsOf.get(page) ?? [])).reduce((a, b) => a + b, 0);
/** The same scripts' bodies as they came over the wire (as served: our server sends its brotli copies). */
const wireOf = new WeakMap<Page, Array<Promise<number>>>();
const wireBytes = async (page: Page) => (await Promise.all(wireOf.get(page) ?? [])).reduce((a, b) => a + b, 0);

async function open(browser: Browser, path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const scripts: Array<Promise<number>> = [];
  const wire: Array<Promise<number>> = [];
  scriptsOf.set(page, scripts);
  wireOf.set(page, wire);
  page.on('response', (r) => {
    // Scripts of the host page only (the framed booking page is the same for both).
    if (r.request().resourceType() !== 'script' || r.frame() !== page.mainFrame()) return;
    scripts.push(r.body().then((b) => gz(b), () => 0));
    wire.push(r.body().then(async () => (await r.request().sizes()).responseBodySize, () => 0));
  });
  // A run that fails says why: the page's errors and the element's error events.
  page.on('console', (m) => m.type() === 'error' && console.error(`  [${path}] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`  [${path}] ${e.message}`));
  await page.addInitScript(SHIFT_OBSERVER);
  await page.goto(`${siteOrigin}${path}`, { waitUntil: 'load' });
  return page;
}

/**
 * Milliseconds from `clickedAt` (ms since the epoch, page clock) to the booking page shown: its
 * linkReady and a painted frame after it, as the page recorded them (SHIFT_OBSERVER). The driver's
 * `waitForSelector` polls at 0, 20, 70, 170, 270 ms… after it is called (Playwright's backoff), so
 * timing by it measured where its schedule fell, which began at different moments for the two
 * pages (decision 0044). The form is then checked visible in its frame, untimed.
 */
async function shownSince(page: Page, iframeSelector: string, clickedAt: number): Promise<{ shown: number; linkReady: number }> {
  await page.waitForFunction(() => (window as any).__shownAt > 0, undefined, { timeout: 30_000 });
  await bookingFrame(page, iframeSelector);
  const [shown, linkReady] = (await page.evaluate(() => [(window as any).__shownAt, (window as any).__linkReadyAt].map((t: number) => performance.timeOrigin + t))) as [number, number];
  return { shown: shown - clickedAt, linkReady: linkReady - clickedAt };
}

/** The framed sandbox booking page, once it has rendered its form. */
async function bookingFrame(page: Page, iframeSelector: string): Promise<Frame> {
  const handle = await page.waitForSelector(iframeSelector, { state: 'attached', timeout: 30_000 });
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('no content frame');
  await frame.waitForSelector('#booking-form', { timeout: 30_000 });
  return frame;
}

const settle = (page: Page) => page.waitForTimeout(1500);
/** Resolves once the page has fetched a chunk whose file name starts with `prefix` (the pointer reached the element). */
const chunkArrived = (page: Page, prefix: string) =>
  page.waitForFunction((p) => performance.getEntriesByType('resource').some((r) => new URL(r.name).pathname.includes(`/chunks/${p}`)), prefix);
/**
 * The same, and the chunk run: the main thread idle once after its arrival (a module is evaluated
 * in a task of its own after its response ends), and `element` defined when it defines one.
 */
async function chunkReady(page: Page, prefix: string, element?: string): Promise<void> {
  await chunkArrived(page, prefix);
  if (element) await page.evaluate((name) => customElements.whenDefined(name), element);
  await page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve())));
}

/**
 * How long a visitor's pointer rests on a control before the button goes down: 100 ms, the short
 * end of what people take. Both pages get it before every timed click (Cal.com's launcher is
 * hovered too, and our consent button after the dialog opened). Without it our clicks came within
 * a frame or two of the bench's last wait, while the page was still busy with what that wait
 * waited for; in bench:widget-trace the same dialog took 23–25 ms clicked at once and 9–14 ms
 * clicked 100 ms later, with the same main-thread work.
 */
const DWELL_MS = 100;
const dwell = (page: Page) => page.waitForTimeout(DWELL_MS);
const shifts = (page: Page) => page.evaluate(() => (window as any).__shifts as Array<{ value: number; input: boolean }>);
const cls = (s: Array<{ value: number; input: boolean }>) => s.filter((x) => !x.input).reduce((a, x) => a + x.value, 0);
const allShift = (s: Array<{ value: number }>) => s.reduce((a, x) => a + x.value, 0);

async function inlineOurs(browser: Browser, path = '/ours-inline.html') {
  const page = await open(browser, path);
  try {
    await page.waitForSelector('calbridge-booking form[part=consent]');
    const reserved = await page.evaluate(() => document.querySelector('calbridge-booking')!.getBoundingClientRect().height);
    await page.waitForLoadState('networkidle');
    const beforeInput = await scriptBytes(page);
    const beforeInputWire = await wireBytes(page);
    await page.hover('calbridge-booking form[part=consent] button');
    await chunkArrived(page, 'calbridge-booking.lazy-');
    await control(page, 'consent button');
    await page.click('calbridge-booking form[part=consent] button');
    await bookingFrame(page, 'calbridge-booking iframe');
    const beforeBooking = await scriptBytes(page);
    await settle(page);
    const s = await shifts(page);
    const loaded = await page.evaluate(() => document.querySelector('calbridge-booking')!.getBoundingClientRect().height);
    const asked = await page.evaluate(() => Math.max(0, ...((window as any).__sized as number[])));
    return { cls: cls(s), all: allShift(s), reserved, loaded, asked, beforeInput, beforeInputWire, beforeBooking, inp: await inpOf(page) };
  } finally {
    await page.close();
  }
}

async function inlineCal(browser: Browser) {
  const page = await open(browser, '/cal-inline.html');
  try {
    await bookingFrame(page, 'iframe.cal-embed');
    await page.waitForSelector('cal-inline[loading="done"]', { state: 'attached' });
    const beforeBooking = await scriptBytes(page);
    await settle(page);
    const s = await shifts(page);
    return { cls: cls(s), all: allShift(s), beforeBooking };
  } finally {
    await page.close();
  }
}

/**
 * Clicks `trigger` in the page and resolves, in page time, when `ready()` holds and a frame has
 * painted since; also when the click happened (ms since the epoch, for rows timed to a later point).
 */
async function clickTo(page: Page, trigger: string, ready: string): Promise<{ ms: number; clickedAt: number }> {
  // A string, not a function: tsx's helpers (__name) do not exist in the page.
  // The click lands just after a frame was painted, for both pages alike (a task queued from
  // requestAnimationFrame): where in the 16.7 ms between frames a click lands decides whether its
  // dialog makes the next frame or waits for the one after, and the bench's own waits otherwise
  // put each page's click at a different, fixed place (after requestIdleCallback ours always
  // landed just before a frame: 25 ms where the same work landing after a frame took 10–14).
  return page.evaluate(`(async () => {
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    const t0 = performance.now();
    (${trigger}).click();
    await new Promise((resolve) => {
      const check = () => (${ready}) ? requestAnimationFrame(() => requestAnimationFrame(resolve)) : requestAnimationFrame(check);
      check();
    });
    return { ms: performance.now() - t0, clickedAt: performance.timeOrigin + t0 };
  })()`) as Promise<{ ms: number; clickedAt: number }>;
}

const OUR_HOST = `document.querySelector('calbridge-booking').shadowRoot`;

const control = (page: Page, name: string) =>
  page.evaluate((n) => {
    (window as any).__control = n;
    ((window as any).__controls ??= []).push(n);
  }, name);
/** Longest Event Timing duration per control label (0 when none crossed 16 ms). */
const inpOf = async (page: Page) => {
  // Entries arrive after the next paint: wait for two frames before reading.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const entries = (await page.evaluate(() => (window as any).__inp)) as Array<{ control: string; duration: number }>;
  const out: Record<string, number> = {};
  // Every control clicked gets a row: 0 stands for "no entry crossed 16 ms".
  for (const c of (await page.evaluate(() => (window as any).__controls ?? [])) as string[]) out[c] = 0;
  for (const e of entries) if (e.control) out[e.control] = Math.max(out[e.control] ?? 0, e.duration);
  return out;
};

async function dialogOurs(browser: Browser, mode: 'popup' | 'floating') {
  const page = await open(browser, `/ours-${mode}.html`);
  try {
    await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'calbridge-ready'));
    await page.waitForLoadState('networkidle');
    const beforeInput = await scriptBytes(page);
    // A visitor's pointer reaches the button before the click does: that loads our chunk.
    await page.hover('calbridge-booking button[part=trigger]');
    await chunkReady(page, 'calbridge-booking.lazy-');
    await dwell(page);
    const toDialog = (await clickTo(page, `${OUR_HOST}.querySelector('button[part=trigger]')`, `${OUR_HOST}.querySelector('dialog[open] form[part=consent]')`)).ms;
    // Timed like Cal.com's launcher: from the moment the in-page click lands, after the same dwell.
    await dwell(page);
    // Just after a painted frame, as every timed click (clickTo; decision 0040).
    const t0 = (await page.evaluate(`(async () => {
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const t = performance.timeOrigin + performance.now();
      ${OUR_HOST}.querySelector('dialog form[part=consent] button').click();
      return t;
    })()`)) as number;
    const { shown: toBookingPage, linkReady: toLinkReady } = await shownSince(page, 'calbridge-booking dialog iframe', t0);
    // INP of the launcher with a real click: close, then open again.
    await control(page, 'close button');
    await page.click('calbridge-booking button[part=close-button]');
    await control(page, 'launcher');
    await page.click('calbridge-booking button[part=trigger]');
    await page.waitForSelector('calbridge-booking dialog[open]');
    return { toDialog, toBookingPage, toLinkReady, beforeInput, inp: await inpOf(page) };
  } finally {
    await page.close();
  }
}

/** Native: consent click → first free times visible, then a day change → that day's times (warm data). */
async function nativeOurs(browser: Browser) {
  const page = await open(browser, '/ours-native.html');
  try {
    await page.waitForSelector('calbridge-booking form[part=consent] button');
    await page.waitForLoadState('networkidle');
    const beforeInput = await scriptBytes(page);
    // The pointer reaches the consent button first: our chunk, then the picker's, load.
    await page.hover('calbridge-booking form[part=consent] button');
    await chunkReady(page, 'native-', 'calbridge-native-booking');
    await dwell(page);
    // In-page click and in-page wait (first time button painted): no driver round trips counted.
    // Just after a painted frame, as every timed click (clickTo; decision 0040).
    const toTimes = (await page.evaluate(`new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => {
      const t0 = performance.now();
      ${OUR_HOST}.querySelector('form[part=consent] button').click();
      const times = () => ${OUR_HOST}.querySelector('calbridge-native-booking')?.shadowRoot?.querySelector('.slots button');
      const check = () => times() ? requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0))) : requestAnimationFrame(check);
      check();
    }, 0)))`)) as number;
    // Another day with free times, on the page already loaded: click it, wait for its times painted.
    const day = await page.evaluate(() => {
      const root = document.querySelector('calbridge-booking')!.shadowRoot!.querySelector('calbridge-native-booking')!.shadowRoot!;
      return (root.querySelector('td.free[aria-selected=false]') as HTMLElement | null)?.dataset.day ?? null;
    });
    let dayChange = NaN;
    if (day) {
      await control(page, 'day (native grid)');
      const el = page.locator(`calbridge-booking td[data-day="${day}"]`);
      const box = (await el.boundingBox())!;
      const start = await page.evaluate(() => performance.now());
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      dayChange = (await page.evaluate(`new Promise((resolve) => {
        const root = () => document.querySelector('calbridge-booking').shadowRoot.querySelector('calbridge-native-booking').shadowRoot;
        const check = () => root().querySelector('td[data-day="${day}"][aria-selected=true]') && root().querySelector('.slots button')
          ? requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))) : requestAnimationFrame(check);
        check();
      })`)) as number - start;
      await control(page, 'time (native)');
      await page.click('calbridge-booking .slots button');
    }
    return { toTimes, dayChange, beforeInput, inp: await inpOf(page) };
  } finally {
    await page.close();
  }
}

async function dialogCal(browser: Browser, mode: 'popup' | 'floating') {
  const page = await open(browser, `/cal-${mode}.html`);
  try {
    const trigger =
      mode === 'popup' ? `document.getElementById('open')` : `document.querySelector('cal-floating-button')?.shadowRoot?.querySelector('button')`;
    await page.waitForFunction(`!!(${trigger})`);
    await page.waitForLoadState('networkidle');
    const beforeInput = await scriptBytes(page);
    await page.hover(mode === 'popup' ? '#open' : 'cal-floating-button button');
    await dwell(page);
    const { ms: toDialog, clickedAt } = await clickTo(page, trigger, `document.querySelector('cal-modal-box')`);
    const { shown: toBookingPage, linkReady: toLinkReady } = await shownSince(page, 'cal-modal-box iframe', clickedAt);
    // INP of the launcher with a real click, on a fresh modal.
    await page.keyboard.press('Escape');
    await control(page, 'launcher');
    await page.click(mode === 'popup' ? '#open' : 'cal-floating-button button');
    return { toDialog, toBookingPage, toLinkReady, beforeInput, inp: await inpOf(page) };
  } finally {
    await page.close();
  }
}

type InlineRun = { cls: number; all: number; reserved: number; loaded: number; asked: number; beforeInput: number; beforeInputWire: number; beforeBooking: number; inp: Record<string, number> };
let siteOrigin = '';
try {
  product = await startProduct({ env: { CALBRIDGE_WIDGET_DIR: outDir, LOG_LEVEL: 'error' } });
  site = createServer((req, res) => {
    if (req.url === '/embed.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(embedCore);
    if (req.url === '/favicon.ico') return void res.writeHead(204).end();
    const body = pages.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((r) => site!.listen(0, '127.0.0.1', r));
  siteOrigin = `http://localhost:${(site.address() as AddressInfo).port}`;
  const admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
  const demo = (await (await fetch(`${product.url}/v1/admin/tenants/demo`, { headers: admin })).json()) as { allowedOrigins: string[] };
  await fetch(`${product.url}/v1/admin/tenants/demo`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: [...demo.allowedOrigins, siteOrigin] }) });
  const native = (await (await fetch(`${product.url}/v1/admin/tenants/demo-native`, { headers: admin })).json()) as { allowedOrigins: string[] };
  await fetch(`${product.url}/v1/admin/tenants/demo-native`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: [...native.allowedOrigins, siteOrigin] }) });
  pages.set('/ours-native.html', oursPage('native'));
  for (const mode of ['inline', 'popup', 'floating'] as const) {
    pages.set(`/ours-${mode}.html`, oursPage(mode));
    pages.set(`/cal-${mode}.html`, calPage(mode));
  }
  for (const consent of ['tcf', 'gcm'] as const) for (const form of ['module', 'loader'] as const) pages.set(`/ours-${consent}-${form}.html`, cmpPage(consent, form));

  browser = await launchChromium();
  const results = {
    inlineOurs: [] as InlineRun[],
    inlineDefault: [] as InlineRun[],
    inlineReserved: [] as InlineRun[],
    inlineCal: [] as Array<{ cls: number; all: number; beforeBooking: number }>,
    native: [] as Array<{ toTimes: number; dayChange: number; beforeInput: number; inp: Record<string, number> }>,
  };
  // `run`: the round a sample came from, so ours and Cal.com's can be paired (they run back to back).
  const dialogs: Record<string, Array<{ run: number; toDialog: number; toBookingPage: number; toLinkReady: number; beforeInput: number; inp: Record<string, number> }>> = {};
  // A sample that fails is reported and left out; the others still count.
  const sample = async <T>(label: string, into: T[], run: () => Promise<T>) => {
    try {
      into.push(await run());
    } catch (e) {
      console.error(`  ${label}: run failed, left out (${(e as Error).message.split('\n')[0]})`);
    }
  };
  // Ours and Cal.com's take turns going first (odd runs swap them): the one that follows finds the
  // sandbox warm from rendering the same booking page, so a fixed order favoured Cal.com's snippet.
  for (let i = 0; i < RUNS; i++) {
    const inTurn = async (a: () => Promise<void>, b: () => Promise<void>) => {
      if (i % 2 === 0) {
        await a();
        await b();
      } else {
        await b();
        await a();
      }
    };
    await sessionBudget(4);
    await sample('native (Calbridge)', results.native, () => nativeOurs(browser!));
    await inTurn(
      () => sample('inline (Calbridge)', results.inlineOurs, () => inlineOurs(browser!)),
      () => sample('inline (Cal.com)', results.inlineCal, () => inlineCal(browser!)),
    );
    for (const mode of ['popup', 'floating'] as const) {
      await inTurn(
        () => sample(`${mode} (Calbridge)`, (dialogs[`ours-${mode}`] ??= []), async () => ({ run: i, ...(await dialogOurs(browser!, mode)) })),
        () => sample(`${mode} (Cal.com)`, (dialogs[`cal-${mode}`] ??= []), async () => ({ run: i, ...(await dialogCal(browser!, mode)) })),
      );
    }
  }

  // The README snippet (the element's 700px reserved before widget.js runs), and a page reserving
  // the booking page's own height (what it reported above), which then needs no inner scroll.
  const measured = Math.round(median(results.inlineOurs.map((r) => r.asked)));
  pages.set('/ours-inline-default.html', oursPage('inline', 700));
  pages.set('/ours-inline-reserved.html', oursPage('inline', measured));
  for (let i = 0; i < RUNS; i++) {
    await sessionBudget(2);
    await sample('inline, 700px reserved', results.inlineDefault, () => inlineOurs(browser!, '/ours-inline-default.html'));
    await sample('inline, page height reserved', results.inlineReserved, () => inlineOurs(browser!, '/ours-inline-reserved.html'));
  }

  // Pages with a consent manager that has not granted: bytes only (the same every run), measured once.
  const withCmp: Record<string, number> = {};
  for (const consent of ['tcf', 'gcm'] as const)
    for (const form of ['module', 'loader'] as const) {
      const into: number[] = [];
      await sample(`inline, consent=${consent}, ${form} form`, into, () => leftAlone(browser!, `/ours-${consent}-${form}.html`));
      if (into.length) withCmp[`${consent}, ${form === 'loader' ? 'loader.js form' : 'module form'}`] = into[0]!;
    }

  const chromium = browser.version();
  const inpRows = (runs: Array<{ inp: Record<string, number> }>) => {
    const controls = new Set(runs.flatMap((r) => Object.keys(r.inp)));
    const out: Record<string, number> = {};
    for (const c of controls) out[c] = median(runs.map((r) => r.inp[c] ?? 0));
    return out;
  };
  const ms = (v: number) => (v ? `${v.toFixed(0)} ms` : '< 16 ms');
  const line = (label: string, ours: string, cal: string, r: string) => console.log(`  ${label.padEnd(44)} ${ours.padStart(16)} ${cal.padStart(16)} ${r.padStart(8)}`);
  console.log(`\nbench:widget — Chromium ${chromium}, headless; ${RUNS} run(s) each, median; host page on ${siteOrigin}, sandbox on ${product.sandboxUrl}\n`);
  line('', 'Calbridge', 'Cal.com snippet', 'ratio');
  console.log('  script size (gzip -9)');
  line('initial script', `${kb(initial.gzip)}`, `${kb(calLoader.gzip)}`, ratio(initial.gzip, calLoader.gzip));
  line('  raw', `${kb(initial.raw)}`, `${kb(calLoader.raw)}`, ratio(initial.raw, calLoader.raw));
  line('lazy: consent → session → frame, dialog chunk', kb(lazy.gzip), '—', '');
  // Merged into the consent chunk by the build since decision 0022; a row only when it exists.
  if (sessionChunk.gzip) line('lazy: session chunk (shared with native)', kb(sessionChunk.gzip), '—', '');
  const allOurs = initial.gzip + lazy.gzip + sessionChunk.gzip;
  line('everything before the booking page (build)', kb(allOurs), kb(calLoader.gzip), ratio(allOurs, calLoader.gzip));
  const fetchedOurs = median(results.inlineOurs.map((r) => r.beforeBooking));
  const fetchedCal = median(results.inlineCal.map((r) => r.beforeBooking));
  line('  as fetched by the inline page', kb(fetchedOurs), kb(fetchedCal), ratio(fetchedOurs, fetchedCal));
  console.log(`  budget: widget.js ≤ 10 KiB gzip (10240 B): ${initial.gzip} B ${initial.gzip <= 10240 ? 'within' : 'OVER'}`);
  const classic = loaderJs.gzip + initial.gzip;
  console.log(`  loader.js form (loader.js ${loaderJs.gzip} B + widget.js), before the first interaction: ${classic} B${classic <= 10240 ? '' : ' (over 10 KiB)'}`);
  console.log('  JavaScript fetched before the first interaction (page loaded, network idle; goal ≤ 10 KiB)');
  const calBefore = median(dialogs['cal-popup']?.map((r) => r.beforeInput) ?? []);
  for (const [label, v] of [
    ['inline', median(results.inlineOurs.map((r) => r.beforeInput))],
    ['popup', median(dialogs['ours-popup']?.map((r) => r.beforeInput) ?? [])],
    ['floating', median(dialogs['ours-floating']?.map((r) => r.beforeInput) ?? [])],
    ['native', median(results.native.map((r) => r.beforeInput))],
  ] as const)
    line(`  ${label}`, `${kb(v)}${v <= 10240 ? '' : ' OVER'}`, kb(calBefore), ratio(v, calBefore));
  // What those bytes are on the wire: the server sends the build's brotli copies to browsers that accept them.
  const wireInline = median(results.inlineOurs.map((r) => r.beforeInputWire));
  line('  inline, on the wire (as served: brotli)', `${kb(wireInline)}${wireInline <= 10240 ? '' : ' OVER'}`, '—', '');
  // consent="tcf"/"gcm", the visitor not yet decided in the consent manager (decision 0038).
  for (const [label, v] of Object.entries(withCmp)) line(`  inline, consent=${label}`, `${kb(v)}${v <= 10240 ? '' : ' OVER'}`, kb(calBefore), ratio(v, calBefore));

  console.log('  inline mode, layout shift until the booking page is loaded');
  const oc = median(results.inlineOurs.map((r) => r.cls));
  const cc = median(results.inlineCal.map((r) => r.cls));
  line('CLS, bare snippet (no reservation)', oc.toFixed(4), cc.toFixed(4), ratio(oc, cc));
  line('all shifts (incl. within 500 ms of input)', median(results.inlineOurs.map((r) => r.all)).toFixed(4), median(results.inlineCal.map((r) => r.all)).toFixed(4), '');
  line(`  box before → after; page's own height (px)`, `${median(results.inlineOurs.map((r) => r.reserved))} → ${median(results.inlineOurs.map((r) => r.loaded))}; ${measured}`, '0 → frame', '');
  const dc = median(results.inlineDefault.map((r) => r.cls));
  line('CLS, README snippet (reserves 700px)', dc.toFixed(4), cc.toFixed(4), ratio(dc, cc));
  const da = median(results.inlineDefault.map((r) => r.all));
  line('  every shift, README snippet', da.toFixed(4), median(results.inlineCal.map((r) => r.all)).toFixed(4), ratio(da, median(results.inlineCal.map((r) => r.all))));
  const rc = median(results.inlineReserved.map((r) => r.cls));
  line(`CLS, page reserves ${measured}px (the page's height)`, rc.toFixed(4), cc.toFixed(4), ratio(rc, cc));

  for (const mode of ['popup', 'floating'] as const) {
    const o = dialogs[`ours-${mode}`]!;
    const c = dialogs[`cal-${mode}`]!;
    console.log(`  ${mode}: launcher click to`);
    const od = median(o.map((x) => x.toDialog));
    const cd = median(c.map((x) => x.toDialog));
    line('open dialog (painted)', `${od.toFixed(1)} ms`, `${cd.toFixed(1)} ms`, ratio(od, cd));
    const ob = median(o.map((x) => x.toBookingPage));
    const cb = median(c.map((x) => x.toBookingPage));
    line('booking page loaded (ours: from consent click)', `${ob.toFixed(0)} ms`, `${cb.toFixed(0)} ms`, ratio(ob, cb));
    // Each round's two samples ran back to back, so their ratio is free of the machine's drift
    // over the minutes of the run (its speed moves both sides alike); the median of those ratios.
    const paired = o.flatMap((x) => c.filter((y) => y.run === x.run).map((y) => x.toBookingPage / y.toBookingPage));
    const sorted = [...paired].sort((a, b) => a - b);
    const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]!;
    if (paired.length)
      line(`  ${paired.length} rounds paired: quartiles, median`, `${q(0.25).toFixed(2)}–${q(0.75).toFixed(2)}×`, '', `${median(paired).toFixed(2)}×`);
    // The page's own linkReady as it reached the embedding page, before any frame (decision 0044).
    const ol = median(o.map((x) => x.toLinkReady));
    const cl = median(c.map((x) => x.toLinkReady));
    line('  its linkReady received (no frame counted)', `${ol.toFixed(0)} ms`, `${cl.toFixed(0)} ms`, ratio(ol, cl));
  }
  const calPopupPage = median(dialogs['cal-popup']!.map((x) => x.toBookingPage));
  console.log('  native mode (no Cal.com frame)');
  const nt = median(results.native.map((r) => r.toTimes));
  line('consent click → first free times (goal ≤ 0.5×)', `${nt.toFixed(0)} ms`, `${calPopupPage.toFixed(0)} ms`, ratio(nt, calPopupPage));
  // The stricter reading: our times painted against Cal.com's linkReady with no frame counted.
  const calPopupLinkReady = median(dialogs['cal-popup']!.map((x) => x.toLinkReady));
  line('  against its linkReady (no frame counted)', '', `${calPopupLinkReady.toFixed(0)} ms`, ratio(nt, calPopupLinkReady));
  const nd = median(results.native.map((r) => r.dayChange));
  line('day change → new times, warm (goal ≤ 100 ms)', `${nd.toFixed(1)} ms`, '—', '');

  console.log('  INP per control (Event Timing, longest entry; goal ≤ 100 ms)');
  const calInp = inpRows([...(dialogs['cal-popup'] ?? []), ...(dialogs['cal-floating'] ?? [])]);
  for (const [label, runs] of [
    ['inline', results.inlineOurs],
    ['popup', dialogs['ours-popup'] ?? []],
    ['floating', dialogs['ours-floating'] ?? []],
    ['native', results.native],
  ] as const)
    for (const [c, v] of Object.entries(inpRows(runs))) line(`  ${label}: ${c}`, ms(v), c === 'launcher' ? ms(calInp.launcher ?? 0) : '—', c === 'launcher' && calInp.launcher ? ratio(v, calInp.launcher) : '');

  console.log('\n  Figures only: nothing here is asserted. Ratios are Calbridge ÷ Cal.com snippet (lower is better).');
} finally {
  await browser?.close();
  await new Promise((r) => (site ? site.close(r) : r(undefined)));
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
}
