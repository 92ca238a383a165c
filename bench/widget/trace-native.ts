// Where native mode's consent click → first free times goes, run by run (decision 0027):
//   pnpm exec tsx --conditions=source bench/widget/trace-native.ts
// Needs built packages (server/dist, widget/dist: `npm run build`). Starts the product as `npm start`
// does, registers a page origin on `demo-native`, and for RUNS page loads (default 5) clicks the
// consent button in the page and prints one JSON line: when the click handler returned, when each
// `fetch` was called and answered, the resource timing of what loaded after the click, when the
// picker appeared and when its first time button was there and painted (two frames, as
// bench:widget waits), checked each frame; and, as they happen (mutation observers), when the
// picker was inserted (`inserted`), its day grid rendered (`grid`) and its first times were in
// the page (`timesInDom`). All times in ms from the click. Options (environment):
//   DEADLINE=n  sets CALBRIDGE_SESSION_SLOTS_DEADLINE_MS (0: the session answer never carries times)
//   HOVER=1     moves the pointer onto the consent button first, as a visitor's would
//   PROFILE=1   also prints the renderer's CPU profile over the run (self time per function)
// Every 8 runs it waits for the next minute: the server allows 10 sessions per address a minute.
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../test/support/browser.js';
import { startProduct } from '../../test/support/product.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 5);
const deadline = process.env.DEADLINE ? { CALBRIDGE_SESSION_SLOTS_DEADLINE_MS: process.env.DEADLINE } : {};
const product = await startProduct({ env: { CALBRIDGE_WIDGET_DIR: join(root, 'widget', 'dist'), LOG_LEVEL: 'error', ...deadline } });
let page = '';
const site = createServer((req, res) => {
  if (req.url === '/native.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  res.writeHead(404).end();
});
await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
const siteOrigin = `http://localhost:${(site.address() as AddressInfo).port}`;
const admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
const tenant = (await (await fetch(`${product.url}/v1/admin/tenants/demo-native`, { headers: admin })).json()) as { allowedOrigins: string[] };
await fetch(`${product.url}/v1/admin/tenants/demo-native`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: [...tenant.allowedOrigins, siteOrigin] }) });
page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><script type="module" src="${product.url}/widget.js"></script></head>
<body><calbridge-booking tenant="demo-native" mode="native"></calbridge-booking></body></html>`;
// Marks when each fetch is called and when its answer's headers arrive.
const MARK_FETCH = `
window.__f = [];
const realFetch = window.fetch;
window.fetch = function (u, i) {
  const r = { url: String(u).replace(/^.*\\/v1\\//, ''), call: performance.now() };
  window.__f.push(r);
  const p = realFetch.call(this, u, i);
  p.then(() => (r.headers = performance.now()), () => {});
  return p;
};`;
const RUN = `new Promise((resolve) => {
  const host = document.querySelector('calbridge-booking').shadowRoot;
  const at = {};
  const t0 = performance.now();
  const ms = (t) => +(t - t0).toFixed(1);
  // Without waiting for frames: when the picker is inserted, its grid rendered, its times there.
  new MutationObserver(() => {
    const picker = host.querySelector('calbridge-native-booking');
    if (!picker?.shadowRoot || at.inserted) return;
    at.inserted = ms(performance.now());
    new MutationObserver(() => {
      if (!at.grid && picker.shadowRoot.querySelector('td')) at.grid = ms(performance.now());
      if (!at.timesInDom && picker.shadowRoot.querySelector('.slots button')) at.timesInDom = ms(performance.now());
    }).observe(picker.shadowRoot, { subtree: true, childList: true });
  }).observe(host, { subtree: true, childList: true });
  host.querySelector('form[part=consent] button').click();
  at.clickReturned = ms(performance.now());
  const check = () => {
    const picker = host.querySelector('calbridge-native-booking');
    if (picker && !at.picker) at.picker = ms(performance.now());
    if (!picker?.shadowRoot?.querySelector('.slots button')) return requestAnimationFrame(check);
    at.times = ms(performance.now());
    requestAnimationFrame(() => requestAnimationFrame(() => {
      at.painted = ms(performance.now());
      at.fetch = window.__f.filter((f) => f.call >= t0).map((f) => ({ url: f.url.slice(0, 40), call: ms(f.call), headers: ms(f.headers) }));
      at.resources = performance.getEntriesByType('resource').filter((e) => e.startTime >= t0 - 1)
        .map((e) => ({ name: e.name.replace(/^.*\\//, '').slice(0, 40), start: ms(e.startTime), end: ms(e.responseEnd) }));
      resolve(at);
    }));
  };
  check();
})`;

const browser = await launchChromium();
try {
  for (let i = 0; i < RUNS; i++) {
    if (i && i % 8 === 0) await new Promise((r) => setTimeout(r, 61_000 - (Date.now() % 60_000)));
    const p = await browser.newPage();
    await p.addInitScript(MARK_FETCH);
    await p.goto(`${siteOrigin}/native.html`, { waitUntil: 'load' });
    await p.waitForSelector('calbridge-booking form[part=consent] button');
    await p.waitForLoadState('networkidle');
    if (process.env.HOVER === '1') {
      await p.hover('calbridge-booking form[part=consent] button');
      await p.waitForLoadState('networkidle');
    }
    const cdp = process.env.PROFILE === '1' ? await p.context().newCDPSession(p) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    console.log(JSON.stringify(await p.evaluate(RUN)));
    if (cdp) {
      type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } };
      const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: { nodes: Node[]; samples: number[]; timeDeltas: number[] } };
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const self = new Map<string, number>();
      profile.samples.forEach((id, k) => {
        const f = byId.get(id)!.callFrame;
        const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '')}:${f.lineNumber}:${f.columnNumber}`;
        self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[k + 1] ?? 0) / 1000);
      });
      for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${t.toFixed(1)} ms ${name}`);
    }
    await p.close();
  }
} finally {
  await browser.close();
  site.close();
  await product.stop();
  // The product's data folder (its embedded database) goes too, as bench:widget's does.
  rmSync(product.dataDir, { recursive: true, force: true });
}
