import { html, nothing } from 'lit';
import { api, tenantPath } from '../shared/api.js';
import { LightElement, field, fmtDate } from '../shared/base.js';
import type { Tenant } from '../pages/tenants-page.js';

/** "Cal.com connection": status, connect (OAuth) or a managed user, the webhook, reconcile now. */
export class CbSectionCalcom extends LightElement {
  static override properties = { tenant: { attribute: false }, page: { attribute: false }, status: { state: true }, busy: { state: true } };
  declare tenant: Tenant;
  declare page: { refresh(): Promise<void> };
  declare status: string;
  declare busy: boolean;

  constructor() {
    super();
    this.status = '';
    this.busy = false;
  }

  private async act(label: string, method: string, path: string, body?: unknown): Promise<void> {
    this.busy = true;
    this.status = `${label}…`;
    try {
      const r = await api<Record<string, unknown>>(method, tenantPath(this.tenant.slug, path), body);
      this.status =
        path === '/reconcile' ? `Reconciled: ${String(r.checked)} checked, ${String(r.created)} created, ${String(r.updated)} updated.` : `${label}: done.`;
      await this.page.refresh();
    } catch (err) {
      this.status = `${label} failed: ${(err as Error).message}`;
    } finally {
      this.busy = false;
    }
  }

  private async saveBookingPage(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const calLink = field(data, 'calLink').trim().replace(/^\/+|\/+$/g, '');
    await this.act('Save booking page', 'PATCH', '', { calLink: calLink || null, timeZone: field(data, 'timeZone').trim() || 'UTC' });
  }

  override render() {
    const c = this.tenant.calcom;
    const connected = c.status === 'connected';
    return html`
      <dl class="facts">
        <dt>Status</dt><dd><span class="badge status-${c.status}">${c.status}</span></dd>
        <dt>Kind</dt><dd>${c.kind}</dd>
        <dt>Connected</dt><dd>${fmtDate(c.connectedAt)}</dd>
        <dt>Cal link</dt><dd class="mono">${this.tenant.calLink ?? '—'}</dd>
      </dl>
      ${c.status === 'needs_reauth'
        ? html`<p class="warning" role="alert">
            ${c.reauthReason === 'calcom_account_in_use'
              ? 'Another site in Calbridge now holds this Cal.com account: disconnect it there, or connect another account.'
              : `Cal.com refused the stored authorisation${c.reauthReason ? ` (${c.reauthReason})` : ''}: reconnect.`}
          </p>`
        : nothing}
      <div class="actions">
        <a class="button" href="/v1/oauth/calcom/${this.tenant.slug}/start">${connected || c.status === 'needs_reauth' ? 'Reconnect with Cal.com' : 'Connect with Cal.com'}</a>
        <button type="button" ?disabled=${this.busy} @click=${() => void this.act('Provision managed user', 'POST', '/calcom/managed-user', {})}>Provision managed user</button>
        ${c.kind === 'managed_user' ? html`<button type="button" class="secondary" ?disabled=${this.busy} @click=${() => void this.act('Remove managed user', 'DELETE', '/calcom/managed-user')}>Remove managed user</button>` : nothing}
        ${c.kind === 'oauth'
          ? html`<button type="button" class="secondary" ?disabled=${this.busy} @click=${() => void this.act('Disconnect Cal.com account', 'DELETE', '/calcom/oauth')}>Disconnect Cal.com account</button>`
          : nothing}
        <button type="button" ?disabled=${this.busy} @click=${() => void this.act('Register webhook', 'POST', '/calcom/webhook')}>Register webhook</button>
        <button type="button" ?disabled=${this.busy} @click=${() => void this.act('Reconcile now', 'POST', '/reconcile')}>Reconcile now</button>
      </div>
      <p role="status" class="status">${this.status}</p>
      <form class="card" aria-labelledby="booking-page-title" @submit=${(e: SubmitEvent) => void this.saveBookingPage(e)}>
        <h3 id="booking-page-title">Booking page</h3>
        <label for="cal-link">Cal link</label>
        <p class="hint" id="cal-link-hint">The Cal.com user (or team) and event, as in cal.com/<em>user/event</em>, e.g. demo/intro-call.</p>
        <input id="cal-link" name="calLink" .value=${this.tenant.calLink ?? ''} aria-describedby="cal-link-hint" autocomplete="off" />
        <label for="time-zone">Time zone</label>
        <input id="time-zone" name="timeZone" .value=${this.tenant.timeZone} autocomplete="off" />
        <button type="submit" ?disabled=${this.busy}>Save booking page</button>
      </form>
    `;
  }
}

customElements.define('cb-section-calcom', CbSectionCalcom);
