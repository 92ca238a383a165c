import { rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startProduct, type RunningProduct } from '../support/product.js';

// Connecting a tenant to Cal.com through OAuth in a real browser, as a tenant admin does: our
// start URL → Cal.com's authorize page (the sandbox) → our callback → the "connected" page.

let product: RunningProduct;
let browser: Browser;
/** The server's public URL: the redirect URI registered with Cal.com is built from it. */
let publicUrl: string;

beforeAll(async () => {
  product = await startProduct();
  publicUrl = product.url.replace('127.0.0.1', 'localhost');
  browser = await launchChromium();
  const created = await fetch(`${product.url}/v1/admin/tenants`, {
    method: 'POST',
    headers: { ...admin(), 'content-type': 'application/json' },
    body: JSON.stringify({ slug: 'oauth-shop', name: 'OAuth Shop', allowedOrigins: ['https://oauth-shop.test'] }),
  });
  expect(created.status).toBe(201);
});
afterAll(async () => {
  await browser?.close();
  await product?.stop();
  if (product) rmSync(product.dataDir, { recursive: true, force: true });
});

function admin(): Record<string, string> {
  return { authorization: `Bearer ${product.adminToken}` };
}

describe('Cal.com OAuth connect in Chromium', () => {
  it('when an admin starts the connect flow in a browser, then Cal.com is asked with a state and no PKCE (confidential client), the browser holds the binding cookie, the callback shows "connected", and the admin API shows the connection', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The start URL needs the admin token; it is added to that one request only, never sent to Cal.com.
    await page.route(`${publicUrl}/v1/oauth/calcom/*/start`, (route) => route.continue({ headers: { ...route.request().headers(), ...admin() } }));
    const visited: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) visited.push(r.url());
    });

    const res = await page.goto(`${publicUrl}/v1/oauth/calcom/oauth-shop/start`);
    expect(res?.status()).toBe(200);

    // Through Cal.com's authorize page with a state and our exact redirect URI, and no PKCE: Cal.com's token
    // endpoint refuses a confidential exchange that carries a code_verifier (decision 0013).
    const authorize = new URL(visited.find((u) => u.startsWith(`${product.sandboxUrl}/auth/oauth2/authorize`))!);
    expect(authorize.searchParams.has('code_challenge')).toBe(false);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    const binding = (await context.cookies(publicUrl)).find((c) => c.name === '__Host-calbridge_oauth');
    expect(binding).toMatchObject({ secure: true, httpOnly: true, path: '/', sameSite: 'Lax' });
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${publicUrl}/v1/oauth/calcom/callback`);

    // Back on our callback, a page that says the tenant is connected.
    const callbackUrl = page.url();
    expect(callbackUrl.startsWith(`${publicUrl}/v1/oauth/calcom/callback?`)).toBe(true);
    await expect.poll(() => page.locator('body').innerText()).toContain('OAuth Shop is connected to Cal.com as demo');
    const code = new URL(callbackUrl).searchParams.get('code')!;
    expect(await page.content()).not.toContain(code);

    const tenant = await (await fetch(`${product.url}/v1/admin/tenants/oauth-shop`, { headers: admin() })).json();
    expect(tenant.calcom).toMatchObject({ kind: 'oauth', status: 'connected' });
    expect(Date.parse(tenant.calcom.connectedAt)).not.toBeNaN();
    expect(JSON.stringify(tenant)).not.toMatch(/access|refresh|token/i);

    // Replaying the callback (back button, a shared link) is refused on a readable page with a code, no stack.
    const replay = await page.goto(callbackUrl);
    expect(replay?.status()).toBe(400);
    const text = await page.locator('body').innerText();
    expect(text).toContain('Cal.com was not connected');
    expect(text).toMatch(/oauth_state_(invalid|expired)|oauth_code_replayed/);
    expect(text).not.toMatch(/\bat .+\.js:\d+/);
    await context.close();
  });

  it('when an authorize link started by one admin is completed in another browser, then the callback refuses it (oauth_state_browser_mismatch) and connects nothing', async () => {
    // The attacker starts the flow (holding the admin token) but does not follow it…
    const start = await fetch(`${publicUrl}/v1/oauth/calcom/oauth-shop/start`, { headers: admin(), redirect: 'manual' });
    expect(start.status).toBe(302);
    // …and sends the authorize link to a victim, whose fresh browser approves at Cal.com and comes back without the cookie.
    const victim = await browser.newContext();
    const page = await victim.newPage();
    const res = await page.goto(start.headers.get('location')!);
    expect(res?.status()).toBe(400);
    expect(page.url().startsWith(`${publicUrl}/v1/oauth/calcom/callback?`)).toBe(true);
    expect(await page.locator('#error-code').getAttribute('data-code')).toBe('oauth_state_browser_mismatch');
    await victim.close();
  });

  it('when the admin token is missing, then the start URL refuses in the browser without reaching Cal.com', async () => {
    const page = await browser.newPage();
    const visited: string[] = [];
    page.on('request', (r) => visited.push(r.url()));
    const res = await page.goto(`${publicUrl}/v1/oauth/calcom/oauth-shop/start`);
    expect(res?.status()).toBe(401);
    expect(visited.some((u) => u.startsWith(product.sandboxUrl!))).toBe(false);
    await page.close();
  });
});
