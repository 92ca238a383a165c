import { html, nothing } from 'lit';
import { api, ApiError, currentSession } from '../shared/api.js';
import { LightElement, fmtDate, field } from '../shared/base.js';
import { navigate } from '../shared/router.js';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  allowedOrigins: string[];
  calLink: string | null;
  timeZone: string;
  calcom: { kind: string; status: string; connectedAt: string | null; reauthReason?: string | null };
  widget: Record<string, unknown>;
  createdAt: string;
}

/** "Tenants": every tenant the person may see, and (administrators) the form "New tenant". */
export class CbTenantsPage extends LightElement {
  static override properties = { tenants: { state: true }, error: { state: true }, formError: { state: true }, busy: { state: true } };
  declare tenants: Tenant[] | null;
  declare error: string | null;
  declare formError: ApiError | null;
  declare busy: boolean;

  constructor() {
    super();
    this.tenants = null;
    this.error = null;
    this.formError = null;
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    try {
      this.tenants = (await api<{ data: Tenant[] }>('GET', '/v1/admin/tenants?limit=200')).data;
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const allowedOrigins = field(data, 'allowedOrigins')
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    this.busy = true;
    this.formError = null;
    try {
      const t = await api<Tenant>('POST', '/v1/admin/tenants', { slug: field(data, 'slug').trim(), name: field(data, 'name').trim(), allowedOrigins });
      navigate(`/admin/tenants/${t.slug}/install`);
    } catch (err) {
      this.formError = err instanceof ApiError ? err : new ApiError(0, 'error', (err as Error).message);
      await this.updateComplete;
      this.querySelector<HTMLElement>('#new-tenant-error')?.focus();
    } finally {
      this.busy = false;
    }
  }

  private fieldError(path: string) {
    const e = this.formError?.errors.find((x) => x.path === path || x.path.startsWith(`${path}.`) || x.path.startsWith(`${path}[`));
    return e ? html`<p class="field-error" id="err-${path}">${e.message}</p>` : nothing;
  }

  override render() {
    const admin = currentSession()?.access.admin ?? false;
    return html`
      <h1 tabindex="-1">Tenants</h1>
      ${this.error ? html`<p role="alert">${this.error}</p>` : nothing}
      ${this.tenants === null
        ? html`<p role="status">Loading tenants…</p>`
        : html`<div class="scroll" tabindex="0" role="region" aria-label="Tenants table">
            <table>
              <caption>Tenants</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Slug</th><th scope="col">Cal.com</th><th scope="col">Allowed origins</th><th scope="col">Created</th></tr></thead>
              <tbody>
                ${this.tenants.length === 0 ? html`<tr><td colspan="5">No tenants yet.</td></tr>` : nothing}
                ${this.tenants.map(
                  (t) => html`<tr>
                    <th scope="row"><a href="/admin/tenants/${t.slug}/install">${t.name}</a></th>
                    <td class="mono">${t.slug}</td>
                    <td><span class="badge status-${t.calcom.status}">${t.calcom.status}</span></td>
                    <td>${t.allowedOrigins.join(', ') || '—'}</td>
                    <td>${fmtDate(t.createdAt)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`}
      ${admin
        ? html`<form class="card" aria-labelledby="new-tenant-title" @submit=${(e: SubmitEvent) => void this.create(e)} novalidate>
            <h2 id="new-tenant-title">New tenant</h2>
            ${this.formError ? html`<p id="new-tenant-error" class="error" role="alert" tabindex="-1">${this.formError.message}</p>` : nothing}
            <label for="slug">Slug</label>
            <p class="hint" id="slug-hint">Lowercase letters, digits and hyphens; used in the snippet (tenant="…").</p>
            <input id="slug" name="slug" required autocomplete="off" pattern="[a-z0-9][a-z0-9-]{0,61}[a-z0-9]?" aria-describedby="slug-hint" />
            ${this.fieldError('slug')}
            <label for="name">Name</label>
            <input id="name" name="name" required autocomplete="organization" />
            ${this.fieldError('name')}
            <label for="allowedOrigins">Allowed origins</label>
            <p class="hint" id="origins-hint">The websites that may show the widget, one per line, e.g. https://www.example.com</p>
            <textarea id="allowedOrigins" name="allowedOrigins" rows="3" aria-describedby="origins-hint"></textarea>
            ${this.fieldError('allowedOrigins')}
            <button type="submit" ?disabled=${this.busy}>Create tenant</button>
          </form>`
        : nothing}
    `;
  }
}

customElements.define('cb-tenants-page', CbTenantsPage);
