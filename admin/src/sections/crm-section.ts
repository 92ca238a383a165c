import { html, nothing } from 'lit';
import { api, tenantPath } from '../shared/api.js';
import { fmtDate, field } from '../shared/base.js';
import { LiveList } from '../shared/live-list.js';

interface CrmDelivery {
  id: string;
  webhookId: string;
  destinationId: string;
  eventType: string;
  status: string;
  attempts: { attempt: number; statusCode: number | null; outcome: string }[];
  nextAttemptAt: string | null;
  createdAt: string;
}
interface Destination {
  id: string;
  kind: string;
  url: string;
  status: string;
  disabledReason: string | null;
}

/** "CRM": destinations (secret rotation, shown once), their deliveries live with "Replay", and the dead letters. */
export class CbSectionCrm extends LiveList<CrmDelivery> {
  protected readonly topics = ['crm'];
  static override properties = { ...LiveList.properties, destinations: { state: true }, statusFilter: { state: true }, actionStatus: { state: true }, secret: { state: true } };
  declare destinations: Destination[] | null;
  declare statusFilter: string;
  declare actionStatus: string;
  declare secret: string | null;

  protected async fetchItems(): Promise<CrmDelivery[]> {
    void this.loadDestinations();
    const q = this.statusFilter ? `&status=${this.statusFilter}` : '';
    return (await api<{ data: CrmDelivery[] }>('GET', tenantPath(this.tenant.slug, `/deliveries?limit=50${q}`))).data;
  }

  private async loadDestinations(): Promise<void> {
    this.destinations = (await api<{ data: Destination[] }>('GET', tenantPath(this.tenant.slug, '/destinations'))).data;
  }

  private async replay(id: string): Promise<void> {
    try {
      await api('POST', tenantPath(this.tenant.slug, `/deliveries/${encodeURIComponent(id)}/replay`));
      this.actionStatus = `Delivery ${id} queued again.`;
      await this.reload();
    } catch (err) {
      this.actionStatus = `Not replayed: ${(err as Error).message}`;
    }
  }

  private async rotate(id: string): Promise<void> {
    try {
      const r = await api<{ secret: string }>('POST', tenantPath(this.tenant.slug, `/destinations/${encodeURIComponent(id)}/secret`));
      this.secret = r.secret;
      this.actionStatus = 'New signing secret made; both sign during the overlap.';
    } catch (err) {
      this.actionStatus = `Not rotated: ${(err as Error).message}`;
    }
  }

  private async setDestination(d: Destination, status: 'active' | 'disabled' | 'delete'): Promise<void> {
    try {
      if (status === 'delete') await api('DELETE', tenantPath(this.tenant.slug, `/destinations/${encodeURIComponent(d.id)}`));
      else await api('PATCH', tenantPath(this.tenant.slug, `/destinations/${encodeURIComponent(d.id)}`), { status });
      this.actionStatus = status === 'delete' ? `Destination ${d.url} removed.` : `Destination ${d.url} is ${status}.`;
      await this.loadDestinations();
    } catch (err) {
      this.actionStatus = `Not changed: ${(err as Error).message}`;
    }
  }

  private async addDestination(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    try {
      const r = await api<{ secret?: string }>('POST', tenantPath(this.tenant.slug, '/destinations'), { kind: 'webhook', url: field(data, 'url').trim() });
      this.secret = r.secret ?? null;
      this.actionStatus = 'Destination added.';
      await this.loadDestinations();
    } catch (err) {
      this.actionStatus = `Not added: ${(err as Error).message}`;
    }
  }

  override render() {
    return html`
      <p role="status" class="status">${this.notice}</p>
      <p role="status" class="status">${this.actionStatus ?? ''}</p>
      ${this.secret ? html`<p><strong>Signing secret (shown once):</strong> <code class="mono secret">${this.secret}</code></p>` : nothing}
      <h3>Destinations</h3>
      ${this.destinations === null || this.destinations === undefined
        ? html`<p role="status">Loading destinations…</p>`
        : html`<ul class="plain">
            ${this.destinations.length === 0 ? html`<li>No destinations.</li>` : nothing}
            ${this.destinations.map(
              (d) => html`<li><span class="badge">${d.kind}</span> <span class="mono">${d.url}</span> — ${d.status}${d.disabledReason ? ` (${d.disabledReason})` : ''}
                ${d.kind === 'webhook' ? html`<button type="button" class="secondary" aria-label="Rotate secret of ${d.url}" @click=${() => void this.rotate(d.id)}>Rotate secret</button>` : nothing}
                <button type="button" class="secondary" aria-label="${d.status === 'active' ? 'Disable' : 'Enable'} ${d.url}" @click=${() => void this.setDestination(d, d.status === 'active' ? 'disabled' : 'active')}>${d.status === 'active' ? 'Disable' : 'Enable'}</button>
                <button type="button" class="secondary" aria-label="Remove ${d.url}" @click=${() => void this.setDestination(d, 'delete')}>Remove</button></li>`,
            )}
          </ul>`}
      <form class="inline-form" aria-label="Add a webhook destination" @submit=${(e: SubmitEvent) => void this.addDestination(e)}>
        <label for="dest-url">Webhook URL</label>
        <input id="dest-url" name="url" type="url" required placeholder="https://crm.example.com/hooks/calbridge" autocomplete="off" />
        <button type="submit">Add destination</button>
      </form>
      <h3>Deliveries</h3>
      <label for="crm-status">Show</label>
      <select id="crm-status" @change=${(e: Event) => { this.statusFilter = (e.target as HTMLSelectElement).value; void this.reload(); }}>
        <option value="">all deliveries</option><option value="dead">dead letters</option><option value="pending">pending</option><option value="delivered">delivered</option>
      </select>
      ${this.error ? html`<p role="alert">${this.error}</p>` : nothing}
      ${this.items === null
        ? html`<p role="status">Loading deliveries…</p>`
        : html`<div class="scroll" tabindex="0" role="region" aria-label="CRM deliveries table"><table>
            <caption>CRM deliveries (updates live)</caption>
            <thead><tr><th scope="col">Created</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Action</th></tr></thead>
            <tbody>
              ${this.items.length === 0 ? html`<tr><td colspan="5">No deliveries.</td></tr>` : nothing}
              ${this.items.map(
                (d) => html`<tr>
                  <td>${fmtDate(d.createdAt)}</td><td class="mono">${d.eventType}</td><td><span class="badge">${d.status}</span></td>
                  <td>${d.attempts.map((a) => `#${a.attempt} ${a.outcome}${a.statusCode ? ` ${a.statusCode}` : ''}`).join(', ') || '—'}</td>
                  <td><button type="button" class="secondary" aria-label="Replay delivery ${d.id}" @click=${() => void this.replay(d.id)}>Replay</button></td>
                </tr>`,
              )}
            </tbody></table></div>`}
    `;
  }
}

customElements.define('cb-section-crm', CbSectionCrm);
