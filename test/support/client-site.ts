import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningProduct } from './product.js';

/** A page of the client's website: its HTML and, when set, the CSP header it is served with. */
interface SitePage {
  html: string;
  csp?: string;
}

export interface ClientSite {
  /** `http://localhost:PORT`: another site than the product's 127.0.0.1, as a client's website is. */
  origin: string;
  /** path → page; a test adds the pages it opens. */
  pages: Map<string, SitePage>;
  close(): Promise<void>;
}

/**
 * A client's website for the e2e suites: a real local HTTP server (Chromium's local-network checks
 * treat pages Playwright fulfils as public), whose origin the client registers for `tenants`
 * through the admin API, as it would from the console.
 */
export async function startClientSite(product: RunningProduct, tenants: string[]): Promise<ClientSite> {
  const pages = new Map<string, SitePage>();
  const site = createServer((req, res) => {
    const p = pages.get(req.url ?? '');
    if (!p) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(p.csp ? { 'content-security-policy': p.csp } : {}) }).end(p.html);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const origin = `http://localhost:${(site.address() as AddressInfo).port}`;
  const admin = { authorization: `Bearer ${product.adminToken}`, 'content-type': 'application/json' };
  for (const slug of tenants) {
    const tenant = (await (await fetch(`${product.url}/v1/admin/tenants/${slug}`, { headers: admin })).json()) as { allowedOrigins: string[] };
    const patched = await fetch(`${product.url}/v1/admin/tenants/${slug}`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: [...tenant.allowedOrigins, origin] }) });
    if (patched.status !== 200) throw new Error(`registering ${origin} for ${slug} answered ${patched.status}`);
  }
  return { origin, pages, close: () => new Promise<void>((r) => site.close(() => r())) };
}
