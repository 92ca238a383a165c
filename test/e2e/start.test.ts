import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startProduct, type RunningProduct } from '../support/product.js';

let product: RunningProduct;
let browser: Browser;

beforeAll(async () => {
  product = await startProduct();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

describe('npm start, as a newcomer runs it', () => {
  it('when started with no DATABASE_URL, then /readyz answers 200 on the embedded database', async () => {
    const res = await fetch(`${product.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('when the demo page is opened in Chromium, then it loads the widget bundle and defines <calbridge-booking>', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    const res = await page.goto(`${product.url}/`);
    expect(res?.status()).toBe(200);
    await page.waitForFunction(() => customElements.get('calbridge-booking') !== undefined, undefined, { timeout: 15_000 });
    expect(await page.locator('calbridge-booking').count()).toBeGreaterThan(0);
    const widget = await fetch(`${product.url}/widget.js`);
    expect(widget.status).toBe(200);
    expect(widget.headers.get('content-type')).toMatch(/javascript/);
    expect(failed.filter((u) => u.startsWith(product.url))).toEqual([]);
    await page.close();
  });

  it('when the demo tenant is set up, then the admin API shows it wired to the sandbox Cal link', async () => {
    const res = await fetch(`${product.url}/v1/admin/tenants/demo`, { headers: { authorization: `Bearer ${product.adminToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ slug: 'demo', calLink: 'demo/intro-call' });
  });

  it('when the product is restarted on the same data directory, then it is ready again and the data is still there', async () => {
    const auth = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${product.url}/v1/admin/tenants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ slug: 'kept', name: 'Kept across restarts', allowedOrigins: ['https://kept.test'] }),
    });
    expect(created.status).toBe(201);
    const dataDir = product.dataDir;
    // The console's development IdP password: printed on the first start only, kept owner-only.
    const password = product.devIdp!.password;
    expect(product.output.join('\n')).toContain(`with the password ${password}`);
    expect(statSync(join(dataDir, 'dev-idp.json')).mode & 0o777).toBe(0o600);
    // One SIGTERM is one orderly stop: every process drains and ends cleanly (no "second signal").
    expect(await product.stop()).toBe(0);
    expect(product.output.join('\n')).not.toMatch(/second signal|stopping the rest/);
    product = await startProduct({ dataDir });
    expect(product.devIdp!.password).toBe(password);
    expect(product.output.join('\n')).not.toContain(password);
    expect((await fetch(`${product.url}/readyz`)).status).toBe(200);
    const kept = await fetch(`${product.url}/v1/admin/tenants/kept`, { headers: auth });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ slug: 'kept', allowedOrigins: ['https://kept.test'] });
  });
});
