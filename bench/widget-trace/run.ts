// node scripts/bench.mjs widget-trace — where the main thread's time goes on the two timed
// paths of popup and floating mode, ours beside Cal.com's snippet (a Chromium trace of each):
//   click → open dialog painted (ours: the launcher; Cal.com's: its launcher),
//   consent click → booking page ready (ours; Cal.com: launcher click → booking page ready).
// For each run it prints the renderer main thread's work between the click and the end mark
// (scripts, style, layout, paint, parsing: the booking page's frame shares this thread here, as
// a same-site frame), largest first, and the end time. Prints figures only; asserts nothing.
// BENCH_RUNS (default 3) runs of each; requires built packages like bench:widget.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../test/support/browser.js';
import { startProduct, type RunningProduct } from '../../test/support/product.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Math.min(10, Math.max(1, Number(process.env.BENCH_RUNS ?? 3)));
for (const built of ['server/dist/main.js', 'test/dist/calcom-sandbox/cli.js', 'widget/dist/widget.js'])
  if (!existsSync(join(root, built))) {
    console.error(`widget-trace needs built packages (${built} is missing): run \`npm run build\` first.`);
    process.exit(2);
  }
const embedCore = readFileSync(createRequire(join(root, 'test', 'package.json')).resolve('@calcom/embed-core'), 'utf8');

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { frame?: string } };
}

/**
 * The renderer main thread's work between the two marks, as self time by event name (each
 * event's duration less its children's), largest first.
 */
function summarise(events: TraceEvent[], start: string, end: string) {
  const mark = (n: string) => events.find((e) => e.name === n && (e.ph === 'R' || e.ph === 'I' || e.ph === 'n' || e.ph === 'b'));
  const s = mark(start);
  const f = mark(end);
  if (!s || !f) return null;
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && e.pid === s.pid);
  const on = events
    .filter((e) => e.ph === 'X' && e.pid === s.pid && (!main || e.tid === main.tid) && e.ts >= s.ts && e.ts <= f.ts && (e.dur ?? 0) > 0)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const self = new Map<TraceEvent, number>(on.map((e) => [e, e.dur ?? 0]));
  const stack: TraceEvent[] = [];
  for (const e of on) {
    while (stack.length && stack.at(-1)!.ts + (stack.at(-1)!.dur ?? 0) <= e.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent) self.set(parent, self.get(parent)! - (e.dur ?? 0));
    stack.push(e);
  }
  const by = new Map<string, { ms: number; n: number }>();
  for (const [e, us] of self) {
    const b = by.get(e.name) ?? { ms: 0, n: 0 };
    b.ms += Math.max(0, us) / 1000;
    b.n++;
    by.set(e.name, b);
  }
  const busy = [...by.values()].reduce((a, b) => a + b.ms, 0);
  return { total: (f.ts - s.ts) / 1000, busy, by: [...by.entries()].filter(([n]) => !/^(ThreadControllerImpl::RunTask|RunTask)$/.test(n)).sort((a, b) => b[1].ms - a[1].ms) };
}

let product: RunningProduct | undefined;
let site: Server | undefined;
let browser: Browser | undefined;
const pages = new Map<string, string>();

/** The booking page's own "ready" (linkReady, posted to the page once it has shown itself), seen by the host page. */
const LINK_READY = `<script>window.__linkReady = false; window.__at = {}; addEventListener('message', (e) => { const t = e.data && e.data.type; if (t && !(t in window.__at)) window.__at[t] = performance.now(); if (t === 'linkReady') window.__linkReady = true; });</script>`;
// Experiment switch: hold our session request until the booking page is ready (what it costs the frame).
const HOLD = process.env.TRACE_HOLD_SESSION === '1'
  ? `<script>{ const f = window.fetch; window.fetch = (u, i) => String(u).endsWith('/sessions') ? new Promise((r) => { const t = setInterval(() => { if (window.__linkReady) { clearInterval(t); r(f(u, i)); } }, 5); }) : f(u, i); }</script>`
  : '';
const ours = (mode: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Calbridge ${mode}</title>${HOLD}
<script type="module" src="${product!.url}/widget.js"></script></head>
<body><main><h1>Book an appointment</h1><calbridge-booking tenant="demo" mode="${mode}" name="Ada Lovelace" email="ada@example.com"></calbridge-booking></main>
<script>window.__ready = false; document.addEventListener('calbridge-ready', () => (window.__ready = true));</script>${LINK_READY}</body></html>`;
const cal = (mode: string) => {
  const config = JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.com' });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cal.com ${mode}</title></head>
<body><main><h1>Book an appointment</h1>
${mode === 'popup' ? `<button id="open" type="button" data-cal-link="demo/intro-call" data-cal-config='${config}'>Book a call</button>` : ''}</main>
<script>
  window.Cal = window.Cal || function () { (window.Cal.q = window.Cal.q || []).push(arguments); };
  window.Cal.q = window.Cal.q || []; window.Cal.ns = window.Cal.ns || {};
  Cal("init", { origin: ${JSON.stringify(product!.sandboxUrl)} });
  ${mode === 'floating' ? `Cal("floatingButton", { calLink: "demo/intro-call", config: ${config} });` : ''}
</script>${LINK_READY}<script src="/embed.js"></script></body></html>`;
};

const HOST = `document.querySelector('calbridge-booking').shadowRoot`;
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'v8.execute', 'loading'];

/** Clicks `trigger` in the page (marks `a`), waits for `ready` then two frames (marks `b`); returns the page-time duration. */
const timed = (page: Page, trigger: string, ready: string, a: string, b: string) =>
  page.evaluate(`(async () => {
    // Just after a frame was painted, as bench:widget's clickTo (bench/widget/run.ts) says why.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    performance.mark('${a}');
    const t0 = performance.now();
    (${trigger}).click();
    await new Promise((resolve) => {
      const check = () => (${ready}) ? requestAnimationFrame(() => requestAnimationFrame(resolve)) : requestAnimationFrame(check);
      check();
    });
    performance.mark('${b}');
    return performance.now() - t0;
  })()`) as Promise<number>;

async function traceRun(b: Browser, who: 'ours' | 'cal', mode: 'popup' | 'floating') {
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(`${siteOrigin}/${who}-${mode}.html`, { waitUntil: 'load' });
    let trigger: string;
    if (who === 'ours') {
      await page.hover('calbridge-booking button[part=trigger]');
      await page.waitForFunction(() => (window as any).__ready);
      trigger = `${HOST}.querySelector('button[part=trigger]')`;
    } else {
      trigger = mode === 'popup' ? `document.getElementById('open')` : `document.querySelector('cal-floating-button')?.shadowRoot?.querySelector('button')`;
      await page.waitForFunction(`!!(${trigger})`);
    }
    await page.waitForLoadState('networkidle');
    await b.startTracing(page, { categories: CATEGORIES });
    const toDialog =
      who === 'ours'
        ? await timed(page, trigger, `${HOST}.querySelector('dialog[open] form[part=consent]')`, 'click', 'dialog')
        : await timed(page, trigger, `document.querySelector('cal-modal-box')`, 'click', 'dialog');
    // Ours: from the consent click; Cal.com's from its launcher click. Both end at linkReady.
    // Cal.com's: the booking page was already loading since its launcher click.
    const toPage =
      who === 'ours'
        ? await timed(page, `${HOST}.querySelector('dialog form[part=consent] button')`, 'window.__linkReady', 'consent', 'page')
        : await page.evaluate(`new Promise((resolve) => {
            const check = () => window.__linkReady ? requestAnimationFrame(() => requestAnimationFrame(() => { performance.mark('page'); resolve(performance.now() - performance.getEntriesByName('click')[0].startTime); })) : requestAnimationFrame(check);
            check();
          })`) as number;
    // The booking page's milestones from the click that started its frame: its request (resource
    // timing of the frame's navigation), its response's end, and its messages as the page got them.
    const milestones = (await page.evaluate(`(() => {
      const from = performance.getEntriesByName('${who === 'ours' ? 'consent' : 'click'}')[0].startTime;
      const nav = performance.getEntriesByType('resource').find((r) => r.initiatorType === 'iframe');
      const at = (t) => t === undefined ? NaN : t - from;
      return { request: at(nav?.startTime), response: at(nav?.responseEnd), iframeReady: at(window.__at.__iframeReady), linkReady: at(window.__at.linkReady) };
    })()`)) as Record<string, number>;
    const buf = await b.stopTracing();
    const events = (JSON.parse(buf.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
    return {
      toDialog,
      toPage,
      milestones,
      dialog: summarise(events, 'click', 'dialog'),
      page: summarise(events, who === 'ours' ? 'consent' : 'click', 'page'),
    };
  } finally {
    await page.close();
  }
}

let siteOrigin = '';
try {
  product = await startProduct({ env: { CALBRIDGE_WIDGET_DIR: join(root, 'widget', 'dist'), LOG_LEVEL: 'error' } });
  site = createServer((req, res) => {
    if (req.url === '/embed.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(embedCore);
    const body = pages.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((r) => site!.listen(0, '127.0.0.1', r));
  siteOrigin = `http://localhost:${(site.address() as AddressInfo).port}`;
  const admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
  const demo = (await (await fetch(`${product.url}/v1/admin/tenants/demo`, { headers: admin })).json()) as { allowedOrigins: string[] };
  await fetch(`${product.url}/v1/admin/tenants/demo`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: [...demo.allowedOrigins, siteOrigin] }) });
  for (const mode of ['popup', 'floating']) {
    pages.set(`/ours-${mode}.html`, ours(mode));
    pages.set(`/cal-${mode}.html`, cal(mode));
  }
  browser = await launchChromium();
  const fmt = (s: ReturnType<typeof summarise>) =>
    s ? `${s.total.toFixed(1)} ms, busy ${s.busy.toFixed(1)} ms: ${s.by.slice(0, 10).map(([n, v]) => `${n} ${v.ms.toFixed(1)}${v.n > 1 ? `×${v.n}` : ''}`).join(', ')}` : 'no marks';
  for (let i = 0; i < RUNS; i++)
    for (const mode of ['popup', 'floating'] as const)
      for (const who of ['ours', 'cal'] as const) {
        // Sessions are limited to 10 a minute per address: 2 per round here.
        const r = await traceRun(browser, who, mode);
        console.log(`${mode} ${who} #${i + 1}\n  click → dialog painted ${r.toDialog.toFixed(1)} ms; main thread ${fmt(r.dialog)}`);
        console.log(`  ${who === 'ours' ? 'consent click' : 'launcher click'} → booking page ready ${r.toPage.toFixed(0)} ms; main thread ${fmt(r.page)}`);
        console.log(`  frame: ${Object.entries(r.milestones).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} ms`);
      }
} finally {
  await browser?.close();
  await new Promise((r) => (site ? site.close(r) : r(undefined)));
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
}
