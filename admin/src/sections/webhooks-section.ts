import { html, nothing } from 'lit';
import { api, tenantPath } from '../shared/api.js';
import { fmtDate } from '../shared/base.js';
import { LiveList } from '../shared/live-list.js';

interface Delivery {
  id: string;
  receivedAt: string;
  trigger: string | null;
  outcome: string;
  code: string | null;
  /** What became of the stored delivery (processed, or unprocessed with a reason); null when nothing was stored. */
  status: string | null;
  reason: string | null;
}

/**
 * "Webhook deliveries": Cal.com's deliveries to this tenant as they arrive (live),
 * "Reprocess" to apply a stored delivery again
 * (POST …/webhook-deliveries/:id/reprocess, the intake branch's contract), and
 * the Cal.com webhook secret's rotation (shown once).
 */
export class CbSectionWebhookDeliveries extends LiveList<Delivery> {
  protected readonly topics = ['webhook-deliveries'];
  static override properties = { ...LiveList.properties, actionStatus: { state: true }, secret: { state: true } };
  declare actionStatus: string;
  declare secret: string | null;

  protected async fetchItems(): Promise<Delivery[]> {
    return (await api<{ data: Delivery[] }>('GET', tenantPath(this.tenant.slug, '/webhook-deliveries?limit=50'))).data;
  }

  private async reprocess(id: string): Promise<void> {
    this.actionStatus = `Reprocessing delivery ${id}…`;
    try {
      const r = await api<{ status: string; reason: string | null; changed: boolean }>('POST', tenantPath(this.tenant.slug, `/webhook-deliveries/${encodeURIComponent(id)}/reprocess`));
      this.actionStatus = `Delivery ${id} reprocessed: ${r.status}${r.reason ? ` (${r.reason})` : ''}, ${r.changed ? 'the booking changed' : 'nothing changed'}.`;
      await this.reload();
    } catch (err) {
      this.actionStatus = `Delivery ${id} was not reprocessed: ${(err as Error).message}`;
    }
  }

  private async rotate(): Promise<void> {
    try {
      const r = await api<{ secret: string; previousValidUntil: string | null }>('POST', tenantPath(this.tenant.slug, '/webhook-secret'));
      this.secret = r.secret;
      this.actionStatus = `New secret made; the old one verifies until ${fmtDate(r.previousValidUntil)}. Register it in Cal.com (Cal.com connection › Register webhook).`;
    } catch (err) {
      this.actionStatus = `Not rotated: ${(err as Error).message}`;
    }
  }

  override render() {
    return html`
      <p role="status" class="status">${this.notice}</p>
      <p role="status" class="status">${this.actionStatus ?? ''}</p>
      ${this.error ? html`<p role="alert">${this.error}</p>` : nothing}
      ${this.items === null
        ? html`<p role="status">Loading deliveries…</p>`
        : html`<div class="scroll" tabindex="0" role="region" aria-label="Webhook deliveries table"><table>
            <caption>Webhook deliveries, newest first (updates live)</caption>
            <thead><tr><th scope="col">Received</th><th scope="col">Trigger</th><th scope="col">Outcome</th><th scope="col">Code</th><th scope="col">Stored</th><th scope="col">Action</th></tr></thead>
            <tbody>
              ${this.items.length === 0 ? html`<tr><td colspan="6">No deliveries yet.</td></tr>` : nothing}
              ${this.items.map(
                (d) => html`<tr>
                  <td>${fmtDate(d.receivedAt)}</td><td class="mono">${d.trigger ?? '—'}</td><td><span class="badge">${d.outcome}</span></td><td class="mono">${d.code ?? ''}</td>
                  <td>${d.status ?? '—'}${d.reason ? html` <span class="mono">${d.reason}</span>` : nothing}</td>
                  <td>${d.status ? html`<button type="button" class="secondary" aria-label="Reprocess delivery ${d.id}" @click=${() => void this.reprocess(d.id)}>Reprocess</button>` : nothing}</td>
                </tr>`,
              )}
            </tbody></table></div>`}
      <div class="card">
        <h3>Webhook secret</h3>
        <p>Rotating makes a new secret for Cal.com's signatures; the old one keeps verifying for the grace period.</p>
        <button type="button" @click=${() => void this.rotate()}>Rotate webhook secret</button>
        ${this.secret ? html`<p><strong>New secret (shown once):</strong> <code class="mono secret">${this.secret}</code></p>` : nothing}
      </div>
    `;
  }
}

customElements.define('cb-section-webhook-deliveries', CbSectionWebhookDeliveries);
