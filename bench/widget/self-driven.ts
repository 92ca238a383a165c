// The booking page rows of bench:widget again, with no automation attached to the browser
// (decision 0046):
//   pnpm exec tsx --conditions=source bench/widget/self-driven.ts
// bench:widget drives Chromium through Playwright, which attaches to every frame: a cross-site
// frame (the booking page) starts paused until the driver has set it up, which adds time to both
// pages' booking page rows alike and none to native mode's. Here each sample is a fresh headless
// Chromium opened on one page by hand (no DevTools connection), and the page drives itself with
// the same steps and waits as bench:widget: the visitor's pointer reaching our element
// (`pointerover`, which loads its chunk), 100 ms of dwell before each timed click, every timed
// click just after a painted frame, the booking page shown at its `linkReady` and three frames,
// native mode's first times at their insertion and two frames. The page posts its figures back.
// Prints medians and per-round ratios (ours and Cal.com's samples of a round run back to back).
// RUNS rounds (default 10); needs built packages (`npm run build`). Figures only; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs';
import { startProduct } from '../../test/support/product.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Math.min(20, Math.max(1, Number(process.env.RUNS ?? 10)));
const embedCore = readFileSync(createRequire(join(root, 'test', 'package.json')).resolve('@calcom/embed-core'), 'utf8');
const product = await startProduct({ env: { CALBRIDGE_WIDGET_DIR: join(root, 'widget', 'dist'), LOG_LEVEL: 'error' } });

type Figures = Record<string, number>;
let received: ((f: Figures) => void) | undefined;
const pages = new Map<string, string>();
const site = createServer((req, res) => {
  if (req.url === '/embed.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(embedCore);
  if (req.method === 'POST' && req.url === '/figures') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      res.writeHead(204).end();
      received?.(JSON.parse(body) as Figures);
    });
    return;
  }
  const page = pages.get(req.url ?? '');
  if (page === undefined) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
});
await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
const siteOrigin = `http://localhost:${(site.address() as AddressInfo).port}`;
const admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
for (const tenant of ['demo', 'demo-native']) {
  const t = (await (await fetch(`${product.url}/v1/admin/tenants/${tenant}`, { headers: admin })).json()) as { allowedOrigins: string[] };
  await fetch(`${product.url}/v1/admin/tenants/${tenant}`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: [...t.allowedOrigins, siteOrigin] }) });
}

// The page's own helpers: the booking page's linkReady and three frames (bench:widget's SHIFT_OBSERVER),
// waits, and the report. `afterFrame`: just after a painted frame, as bench:widget's clickTo.
const HELPERS = `<script>
  window.__shownAt = 0;
  addEventListener('message', (e) => {
    if (window.__linkReadyAt || !e.data || e.data.originator !== 'CAL' || e.data.type !== 'linkReady') return;
    window.__linkReadyAt = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(() => (window.__shownAt = performance.now()))));
  });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const afterFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const until = (f) => new Promise((r) => { const check = () => (f() ? r() : requestAnimationFrame(check)); check(); });
  const idle = () => new Promise((r) => requestIdleCallback(() => r()));
  const loaded = new Promise((r) => addEventListener('load', r));
  const report = (figures) => fetch('/figures', { method: 'POST', body: JSON.stringify(figures) });
  const shown = async (t0) => { await until(() => window.__shownAt); report({ page: window.__shownAt - t0, linkReady: window.__linkReadyAt - t0 }); };
  const host = () => document.querySelector('calbridge-booking')?.shadowRoot;
  // The visitor's pointer reaches the element: its chunk loads (bench:widget hovers it).
  const pointerReaches = async (chunk) => {
    document.querySelector('calbridge-booking').dispatchEvent(new PointerEvent('pointerover', { bubbles: true, composed: true }));
    await until(() => performance.getEntriesByType('resource').some((r) => r.name.includes('/chunks/' + chunk)));
    await idle();
  };
</script>`;
const config = `{"name":"Ada Lovelace","email":"ada@example.com"}`;
const calTrigger = (mode: string) => (mode === 'popup' ? `document.getElementById('open')` : `document.querySelector('cal-floating-button')?.shadowRoot?.querySelector('button')`);
for (const mode of ['popup', 'floating'] as const) {
  pages.set(
    `/cal-${mode}.html`,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cal.com ${mode}</title></head><body>
${mode === 'popup' ? `<button id="open" type="button" data-cal-link="demo/intro-call" data-cal-config='${config}'>Book a call</button>` : ''}${HELPERS}
<script>
  window.Cal = window.Cal || function () { (window.Cal.q = window.Cal.q || []).push(arguments); };
  window.Cal.q = window.Cal.q || []; window.Cal.ns = window.Cal.ns || {};
  Cal("init", { origin: ${JSON.stringify(product.sandboxUrl)} });
  ${mode === 'floating' ? `Cal("floatingButton", { calLink: "demo/intro-call", config: ${config} });` : ''}
</script><script src="/embed.js"></script>
<script>(async () => {
  await loaded; await until(() => ${calTrigger(mode)}); await sleep(1000); await idle(); await sleep(100); await afterFrame();
  const t0 = performance.now(); (${calTrigger(mode)}).click(); await shown(t0);
})();</script></body></html>`,
  );
  pages.set(
    `/ours-${mode}.html`,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Calbridge ${mode}</title><script type="module" src="${product.url}/widget.js"></script></head><body>
<calbridge-booking tenant="demo" mode="${mode}" name="Ada Lovelace" email="ada@example.com"></calbridge-booking>${HELPERS}
<script>(async () => {
  await loaded; await until(() => host()?.querySelector('button[part=trigger]')); await sleep(1000); await idle();
  await pointerReaches('calbridge-booking.lazy-'); await sleep(100); await afterFrame();
  host().querySelector('button[part=trigger]').click();
  await until(() => host().querySelector('dialog[open] form[part=consent]')); await sleep(100); await afterFrame();
  const t0 = performance.now(); host().querySelector('dialog form[part=consent] button').click(); await shown(t0);
})();</script></body></html>`,
  );
}
pages.set(
  '/ours-native.html',
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Calbridge native</title><script type="module" src="${product.url}/widget.js"></script></head><body>
<calbridge-booking tenant="demo-native" mode="native" name="Ada Lovelace" email="ada@example.com"></calbridge-booking>${HELPERS}
<script>(async () => {
  await loaded; await until(() => host()?.querySelector('form[part=consent] button')); await sleep(1000); await idle();
  await pointerReaches('native-'); await customElements.whenDefined('calbridge-native-booking'); await idle(); await sleep(100); await afterFrame();
  const t0 = performance.now(); host().querySelector('form[part=consent] button').click();
  await until(() => host().querySelector('calbridge-native-booking')?.shadowRoot?.querySelector('.slots button'));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  report({ times: performance.now() - t0 });
})();</script></body></html>`,
);

/** Kills a Chromium's whole process group: its zygote and renderers outlive a killed browser process. */
const killGroup = (pid: number | undefined) => {
  try {
    if (pid) process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
// Its own process group does not get the terminal's Ctrl-C: take the running one down with us,
// and its profile (the product's processes get the signal themselves; their data folder goes too).
let running: { pid: number | undefined; profile: string } | undefined;
process.once('SIGINT', () => {
  killGroup(running?.pid);
  for (const dir of [running?.profile, product.dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});

/** One fresh Chromium on `path`, no DevTools connection; resolves with what the page posted (or null after 30 s). */
async function sample(path: string): Promise<Figures | null> {
  const profile = mkdtempSync(join(tmpdir(), 'calbridge-self-driven-'));
  const figures = new Promise<Figures>((r) => (received = r));
  const chromium = spawn(chromiumPath(), ['--headless', ...CHROMIUM_ARGS, `--user-data-dir=${profile}`, `${siteOrigin}${path}`], { stdio: 'ignore', detached: true });
  running = { pid: chromium.pid, profile };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([figures, new Promise<null>((r) => (timer = setTimeout(() => r(null), 30_000)))]);
  } finally {
    clearTimeout(timer);
    killGroup(chromium.pid);
    running = undefined;
    await new Promise((r) => (chromium.exitCode === null ? chromium.once('exit', r) : r(undefined)));
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const rows = new Map<string, Array<{ run: number; value: number }>>();
// Three sessions a round (ours popup, floating, native); the server allows ten per address a minute.
let windowOf = Math.floor(Date.now() / 60_000);
let sessions = 0;
try {
  for (let run = 0; run < RUNS; run++) {
    if (Math.floor(Date.now() / 60_000) !== windowOf) [windowOf, sessions] = [Math.floor(Date.now() / 60_000), 0];
    if (sessions + 3 > 8) {
      await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 500));
      [windowOf, sessions] = [Math.floor(Date.now() / 60_000), 0];
    }
    sessions += 3;
    // Ours and Cal.com's take turns going first, as in bench:widget.
    const order = ['ours-popup', 'cal-popup', 'ours-floating', 'cal-floating', 'ours-native'];
    for (const name of run % 2 ? order : [order[1]!, order[0]!, order[3]!, order[2]!, order[4]!]) {
      const f = await sample(`/${name}.html`);
      if (!f) console.error(`  ${name}: no figures within 30 s, left out`);
      for (const [k, v] of Object.entries(f ?? {})) {
        const key = `${name} ${k}`;
        rows.set(key, [...(rows.get(key) ?? []), { run, value: v }]);
      }
    }
  }
  const of = (key: string) => rows.get(key) ?? [];
  const m = (key: string) => median(of(key).map((x) => x.value));
  const line = (label: string, ours: number, cal: number, paired?: number) =>
    console.log(`  ${label.padEnd(50)} ${`${ours.toFixed(0)} ms`.padStart(8)} ${`${cal.toFixed(0)} ms`.padStart(8)} ${`${(ours / cal).toFixed(2)}×`.padStart(7)}${paired === undefined ? '' : `   paired median ${paired.toFixed(2)}×`}`);
  const pairedRatio = (a: string, b: string) =>
    median(of(a).flatMap((x) => of(b).filter((y) => y.run === x.run).map((y) => x.value / y.value)));
  console.log(`\nbench/widget/self-driven — ${RUNS} round(s), a fresh headless Chromium per sample, no automation attached; medians\n`);
  console.log(`  ${''.padEnd(50)} ${'Calbridge'.padStart(8)} ${'Cal.com'.padStart(8)}   ratio`);
  for (const mode of ['popup', 'floating']) {
    line(`${mode}: booking page loaded (ours from the consent click)`, m(`ours-${mode} page`), m(`cal-${mode} page`), pairedRatio(`ours-${mode} page`, `cal-${mode} page`));
    line(`  its linkReady received (no frame counted)`, m(`ours-${mode} linkReady`), m(`cal-${mode} linkReady`));
  }
  line('native: consent click → first free times (goal ≤ 0.5×)', m('ours-native times'), m('cal-popup page'), pairedRatio('ours-native times', 'cal-popup page'));
  console.log('\n  Figures only: nothing here is asserted. Ratios are Calbridge ÷ Cal.com snippet (lower is better).');
} finally {
  site.close();
  await product.stop();
  rmSync(product.dataDir, { recursive: true, force: true });
}
