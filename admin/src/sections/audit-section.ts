import { html, nothing } from 'lit';
import { api, tenantPath } from '../shared/api.js';
import { LightElement, fmtDate } from '../shared/base.js';
import type { Tenant } from '../pages/tenants-page.js';

interface ConsoleEntry { id: string; at: string; subject: string; method: string; route: string; status: number }
interface GdprEntry { id: string; at: string; actor: { kind: string; tokenId: string | null; subject?: string }; action: string; details: Record<string, unknown> }

/** "Audit": every console action (who by subject id, what route, the answer) and the GDPR log. */
export class CbSectionAudit extends LightElement {
  static override properties = { tenant: { attribute: false }, page: { attribute: false }, consoleLog: { state: true }, gdprLog: { state: true }, error: { state: true } };
  declare tenant: Tenant;
  declare consoleLog: ConsoleEntry[] | null;
  declare gdprLog: GdprEntry[] | null;
  declare error: string | null;

  constructor() {
    super();
    this.consoleLog = null;
    this.gdprLog = null;
    this.error = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void Promise.all([
      api<{ data: ConsoleEntry[] }>('GET', tenantPath(this.tenant.slug, '/console-audit?limit=100')),
      api<{ data: GdprEntry[] }>('GET', tenantPath(this.tenant.slug, '/audit?limit=100')),
    ])
      .then(([c, g]) => {
        this.consoleLog = c.data;
        this.gdprLog = g.data;
      })
      .catch((e: Error) => (this.error = e.message));
  }

  override render() {
    if (this.error) return html`<p role="alert">${this.error}</p>`;
    if (!this.consoleLog || !this.gdprLog) return html`<p role="status">Loading the audit log…</p>`;
    return html`
      <div class="scroll" tabindex="0" role="region" aria-label="Console actions table"><table>
        <caption>Console actions</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Who (subject)</th><th scope="col">Action</th><th scope="col">Answer</th></tr></thead>
        <tbody>
          ${this.consoleLog.length === 0 ? html`<tr><td colspan="4">Nothing yet.</td></tr>` : nothing}
          ${this.consoleLog.map((e) => html`<tr><td>${fmtDate(e.at)}</td><td class="mono">${e.subject}</td><td class="mono">${e.method} ${e.route}</td><td>${e.status}</td></tr>`)}
        </tbody></table></div>
      <div class="scroll" tabindex="0" role="region" aria-label="GDPR log table"><table>
        <caption>GDPR log</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Details</th></tr></thead>
        <tbody>
          ${this.gdprLog.length === 0 ? html`<tr><td colspan="4">Nothing yet.</td></tr>` : nothing}
          ${this.gdprLog.map(
            (e) => html`<tr><td>${fmtDate(e.at)}</td><td class="mono">${e.actor.subject ?? e.actor.tokenId ?? e.actor.kind}</td><td class="mono">${e.action}</td><td class="mono">${JSON.stringify(e.details)}</td></tr>`,
          )}
        </tbody></table></div>
    `;
  }
}

customElements.define('cb-section-audit', CbSectionAudit);
