import { html, nothing, type TemplateResult } from 'lit';
import { currentSession, loadSession, signIn, signOut } from '../shared/api.js';
import { LightElement, focusLater } from '../shared/base.js';
import { interceptLinks, parseRoute, type Route } from '../shared/router.js';

/** Each page is its own chunk, loaded when first shown. */
const pages: Record<string, () => Promise<unknown>> = {
  tenants: () => import('../pages/tenants-page.js'),
  tenant: () => import('../pages/tenant-page.js'),
  tokens: () => import('../pages/tokens-page.js'),
};

/**
 * The console's shell: who is signed in, sign-out, and the page for the URL.
 * A signed-out visitor is sent to /admin/login, which returns here afterwards.
 */
export class CbAdminApp extends LightElement {
  static override properties = { route: { state: true }, ready: { state: true }, failure: { state: true } };
  declare route: Route;
  declare ready: boolean;
  declare failure: string | null;

  constructor() {
    super();
    this.route = parseRoute(location.pathname);
    this.ready = false;
    this.failure = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    interceptLinks(this);
    window.addEventListener('popstate', this.onPop);
    void this.boot();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('popstate', this.onPop);
    super.disconnectedCallback();
  }

  private readonly onPop = () => {
    this.route = parseRoute(location.pathname);
    void this.load().then(() => focusLater(this, 'main h1'));
  };

  private async boot(): Promise<void> {
    try {
      const s = await loadSession();
      if (!s) signIn();
      await this.load();
      this.ready = true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'unauthorized') this.failure = (err as Error).message;
    }
  }

  private async load(): Promise<void> {
    const load = pages[this.route.page];
    if (load) await load();
  }

  private page(): TemplateResult {
    const r = this.route;
    if (r.page === 'tenants') return html`<cb-tenants-page></cb-tenants-page>`;
    if (r.page === 'tokens') return html`<cb-tokens-page></cb-tokens-page>`;
    if (r.page === 'tenant') return html`<cb-tenant-page .slug=${r.slug} .section=${r.section}></cb-tenant-page>`;
    return html`<h1 tabindex="-1">Page not found</h1><p><a href="/admin/tenants">Go to Tenants</a></p>`;
  }

  override render() {
    const s = currentSession();
    return html`
      <header class="bar">
        <a class="brand" href="/admin/tenants">Calbridge console</a>
        ${s?.access.admin ? html`<nav aria-label="Console"><a class="navlink" href="/admin/tokens">Admin tokens</a></nav>` : nothing}
        ${s
          ? html`<span class="who">Signed in as <span class="mono">${s.subject}</span>${s.access.admin ? ' (administrator)' : nothing}</span>
              <button type="button" class="secondary" @click=${() => void signOut()}>Sign out</button>`
          : nothing}
      </header>
      <main id="main" tabindex="-1">
        ${this.failure ? html`<h1 tabindex="-1">The console could not start</h1><p role="alert">${this.failure}</p>` : this.ready ? this.page() : html`<p role="status">Loading…</p>`}
      </main>
    `;
  }
}

customElements.define('cb-admin-app', CbAdminApp);
