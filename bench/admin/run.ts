// npm run bench:admin — the admin console's initial load, beside the widget's, same run.
//
// 1. Builds the console (admin/, vite) and the widget into temporary folders and reports the
//    gzip size of what a first visit to /admin downloads before any page chunk (index.html,
//    the entry script, the stylesheet), each page's and section's chunk, and the widget's
//    initial widget.js.
// 2. Starts the product as `npm start` does (development IdP, server, sandbox, demo tenants),
//    signs in as admin@demo.test through the IdP in headless Debian Chromium, then BENCH_RUNS
//    times (default 5, median shown) opens, in a fresh tab with the session cookie:
//      - /admin/tenants until the "Tenants" table shows its rows,
//      - /admin/tenants/demo/bookings until the "Bookings" table shows (the demo data),
//    and, for the widget, a page with its snippet until `calbridge-ready`.
//    "Time to interactive" here: from navigation start to that content being in the DOM with
//    the main thread idle long enough for a 50 ms task to run (a requestIdleCallback after it).
// Prints figures; asserts nothing timed. Requires built packages (`npm run build`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchChromium } from '../../test/support/browser.js';
import { startProduct } from '../../test/support/product.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Math.min(20, Math.max(1, Number(process.env.BENCH_RUNS ?? 5)));
for (const built of ['server/dist/main.js', 'test/dist/calcom-sandbox/cli.js', 'dev-idp/dist/cli.js'])
  if (!existsSync(join(root, built))) {
    console.error(`bench:admin needs built packages (${built} is missing): run \`npm run build\` first.`);
    process.exit(2);
  }

const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ------------------------------------------------------------------------------ sizes
const adminOut = mkdtempSync(join(tmpdir(), 'calbridge-bench-admin-'));
execFileSync(join(root, 'admin', 'node_modules', '.bin', 'vite'), ['build', '--outDir', adminOut, '--emptyOutDir', '--logLevel', 'warn'], { cwd: join(root, 'admin'), stdio: ['ignore', 'ignore', 'inherit'] });
const widgetOut = mkdtempSync(join(tmpdir(), 'calbridge-bench-admin-widget-'));
execFileSync(join(root, 'widget', 'node_modules', '.bin', 'vite'), ['build', '--outDir', widgetOut, '--emptyOutDir', '--logLevel', 'warn'], { cwd: join(root, 'widget'), stdio: ['ignore', 'ignore', 'inherit'] });

const html = readFileSync(join(adminOut, 'index.html'));
const assets = readdirSync(join(adminOut, 'assets')).filter((f) => /\.(js|css)$/.test(f));
const initialFiles = [...html.toString().matchAll(/(?:src|href)="\/admin\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
const initialGzip = gz(html) + initialFiles.reduce((n, f) => n + gz(readFileSync(join(adminOut, f))), 0);
const chunkRows = assets
  .filter((f) => !initialFiles.includes(`assets/${f}`) && f.endsWith('.js'))
  .map((f) => ({ chunk: f.replace(/-[A-Za-z0-9_-]{8}\.js$/, ''), gzip: gz(readFileSync(join(adminOut, 'assets', f))) }))
  .sort((a, b) => a.chunk.localeCompare(b.chunk));
const widgetInitial = gz(readFileSync(join(widgetOut, 'widget.js')));

console.log('\nInitial download (gzip -9 bytes)');
console.log(`  console  /admin (index.html + ${initialFiles.join(' + ')}): ${initialGzip} B`);
console.log(`  widget   widget.js:                                  ${widgetInitial} B`);
console.log('Console chunks loaded on demand (gzip -9 bytes)');
for (const r of chunkRows) console.log(`  ${r.chunk.padEnd(20)} ${r.gzip} B`);

// ------------------------------------------------------------------------------ timing
const product = await startProduct();
const browser = await launchChromium();
const site = createServer((_req, res) =>
  res
    .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Site</title><script type="module" src="${product.url}/widget.js"></script></head><body><calbridge-booking tenant="demo"></calbridge-booking></body></html>`),
);
try {
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // The widget's page must be an allowed origin of demo.
  const admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
  const demo = await (await fetch(`${product.url}/v1/admin/tenants/demo`, { headers: admin })).json();
  await fetch(`${product.url}/v1/admin/tenants/demo`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: [...demo.allowedOrigins, siteOrigin] }) });

  const context = await browser.newContext();
  const login = await context.newPage();
  await login.goto(`${product.consoleUrl}/admin/tenants`);
  await login.getByLabel('Email').fill('admin@demo.test');
  await login.getByLabel('Password').fill(product.devIdp!.password);
  await login.getByRole('button', { name: 'Sign in' }).click();
  await login.waitForURL(`${product.consoleUrl}/admin/tenants`);
  await login.close();

  /** Milliseconds from navigation start until `ready` holds and an idle callback ran after it. */
  async function tti(url: string, ready: string): Promise<number> {
    const page: Page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    const ms = await page.evaluate(async (readyExpr) => {
      const check = new Function(`return (${readyExpr})`) as () => boolean;
      while (!check()) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => (window as unknown as { requestIdleCallback(cb: () => void, o: { timeout: number }): void }).requestIdleCallback(() => r(undefined), { timeout: 2000 }));
      return performance.now();
    }, ready);
    await page.close();
    return ms;
  }

  const tenants: number[] = [];
  const bookings: number[] = [];
  const widget: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    tenants.push(await tti(`${product.consoleUrl}/admin/tenants`, `document.querySelector('table caption')?.textContent === 'Tenants' && document.querySelectorAll('tbody tr').length > 0`));
    bookings.push(await tti(`${product.consoleUrl}/admin/tenants/demo/bookings`, `[...document.querySelectorAll('table caption')].some((c) => c.textContent === 'Bookings')`));
    const page = await context.newPage();
    await page.addInitScript(() => document.addEventListener('calbridge-ready', () => ((window as unknown as { __ready: number }).__ready = performance.now())));
    await page.goto(`${siteOrigin}/`, { waitUntil: 'commit' });
    await page.waitForFunction(() => (window as unknown as { __ready?: number }).__ready !== undefined, undefined, { timeout: 30_000 });
    widget.push(await page.evaluate(() => (window as unknown as { __ready: number }).__ready));
    await page.close();
  }
  console.log(`\nTime to interactive on the demo data, median of ${RUNS} (ms from navigation start, signed in, warm server)`);
  console.log(`  console  Tenants page, table with rows:     ${median(tenants).toFixed(0)} ms   (runs: ${tenants.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  console  demo › Bookings, table shown:      ${median(bookings).toFixed(0)} ms   (runs: ${bookings.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  widget   snippet page, calbridge-ready:     ${median(widget).toFixed(0)} ms   (runs: ${widget.map((x) => x.toFixed(0)).join(', ')})`);
  await context.close();
} finally {
  await browser.close();
  await new Promise((r) => site.close(r));
  await product.stop();
  rmSync(product.dataDir, { recursive: true, force: true });
  rmSync(adminOut, { recursive: true, force: true });
  rmSync(widgetOut, { recursive: true, force: true });
}
