import { html, nothing } from 'lit';
import { unsafeStatic, html as staticHtml } from 'lit/static-html.js';
import { api, ApiError, tenantPath } from '../shared/api.js';
import { LightElement, focusLater } from '../shared/base.js';
import { SECTIONS } from '../shared/router.js';
import type { Tenant } from './tenants-page.js';

/** Each section of a tenant is its own chunk. */
const sections: Record<string, () => Promise<unknown>> = {
  install: () => import('../sections/install-section.js'),
  calcom: () => import('../sections/calcom-section.js'),
  bookings: () => import('../sections/bookings-section.js'),
  leads: () => import('../sections/leads-section.js'),
  'webhook-deliveries': () => import('../sections/webhooks-section.js'),
  crm: () => import('../sections/crm-section.js'),
  privacy: () => import('../sections/privacy-section.js'),
  audit: () => import('../sections/audit-section.js'),
};

/** One tenant: its sections as a navigation, the chosen one below. */
export class CbTenantPage extends LightElement {
  static override properties = { slug: {}, section: {}, tenant: { state: true }, error: { state: true }, loaded: { state: true } };
  declare slug: string;
  declare section: string;
  declare tenant: Tenant | null;
  declare error: ApiError | null;
  declare loaded: string | null;

  constructor() {
    super();
    this.tenant = null;
    this.error = null;
    this.loaded = null;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('slug')) {
      this.tenant = null;
      this.error = null;
      void this.refresh();
    }
    if (changed.has('section')) void this.loadSection();
  }

  /** Sections call this after they changed the tenant. */
  async refresh(): Promise<void> {
    try {
      this.tenant = await api<Tenant>('GET', tenantPath(this.slug));
    } catch (err) {
      this.error = err instanceof ApiError ? err : new ApiError(0, 'error', (err as Error).message);
    }
  }

  private async loadSection(): Promise<void> {
    const section = this.section;
    await sections[section]?.();
    this.loaded = section;
  }

  override render() {
    if (this.error) {
      const title = this.error.status === 403 ? 'Not allowed' : this.error.status === 404 ? 'Tenant not found' : 'Something went wrong';
      const text = this.error.status === 403 ? 'You have no role on this tenant.' : this.error.message;
      return html`<h1 tabindex="-1">${title}</h1><p role="alert">${text}</p><p><a href="/admin/tenants">Back to Tenants</a></p>`;
    }
    if (!this.tenant) return html`<p role="status">Loading tenant…</p>`;
    const t = this.tenant;
    const current = SECTIONS.find(([id]) => id === this.section)!;
    const tag = unsafeStatic(`cb-section-${this.section}`);
    return html`
      <p class="crumbs"><a href="/admin/tenants">Tenants</a> › <span class="mono">${t.slug}</span></p>
      <h1 tabindex="-1">${t.name}</h1>
      <nav aria-label="Tenant sections">
        <ul class="tabs">
          ${SECTIONS.map(([id, label]) => html`<li><a href="/admin/tenants/${t.slug}/${id}" aria-current=${id === this.section ? 'page' : nothing}>${label}</a></li>`)}
        </ul>
      </nav>
      <section aria-labelledby="section-title" class="section">
        <h2 id="section-title" tabindex="-1">${current[1]}</h2>
        ${this.loaded === this.section ? staticHtml`<${tag} .tenant=${t} .page=${this}></${tag}>` : html`<p role="status">Loading…</p>`}
      </section>
    `;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('section') && changed.get('section') !== undefined) focusLater(this, '#section-title');
  }
}

customElements.define('cb-tenant-page', CbTenantPage);
