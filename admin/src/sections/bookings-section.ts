import { html, nothing } from 'lit';
import { api, tenantPath } from '../shared/api.js';
import { fmtDate, field } from '../shared/base.js';
import { LiveList } from '../shared/live-list.js';

interface Booking {
  uid: string;
  status: string;
  title: string | null;
  startTime: string | null;
  attendees: { name?: string; email?: string }[];
  createdAt: string;
}

/** "Bookings": filter by status, dates and email; a booking opens with its history, raw deliveries and consent receipt. */
export class CbSectionBookings extends LiveList<Booking> {
  protected readonly topics = ['bookings'];
  private filter = new URLSearchParams();
  static override properties = { ...LiveList.properties, detail: { state: true } };
  declare detail: Record<string, unknown> | null;

  protected async fetchItems(): Promise<Booking[]> {
    const q = new URLSearchParams(this.filter);
    q.set('limit', '50');
    return (await api<{ data: Booking[] }>('GET', tenantPath(this.tenant.slug, `/bookings?${q}`))).data;
  }

  private applyFilter(e: SubmitEvent): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    this.filter = new URLSearchParams();
    for (const k of ['status', 'from', 'to', 'email']) {
      let v = field(data, k).trim();
      if (v && (k === 'from' || k === 'to')) v = new Date(`${v}T00:00:00Z`).toISOString();
      if (v) this.filter.set(k, v);
    }
    void this.reload();
  }

  private async open(uid: string): Promise<void> {
    this.detail = await api<Record<string, unknown>>('GET', tenantPath(this.tenant.slug, `/bookings/${encodeURIComponent(uid)}`));
    await this.updateComplete;
    this.querySelector<HTMLElement>('#booking-detail-title')?.focus();
  }

  override render() {
    return html`
      <form class="filters" aria-label="Filter bookings" @submit=${(e: SubmitEvent) => this.applyFilter(e)}>
        <div><label for="f-status">Status</label>
          <select id="f-status" name="status"><option value="">any</option>${['accepted', 'pending', 'cancelled', 'rejected', 'rescheduled'].map((s) => html`<option>${s}</option>`)}</select></div>
        <div><label for="f-from">From</label><input id="f-from" name="from" type="date" /></div>
        <div><label for="f-to">To</label><input id="f-to" name="to" type="date" /></div>
        <div><label for="f-email">Email</label><input id="f-email" name="email" type="email" autocomplete="off" /></div>
        <button type="submit">Filter</button>
      </form>
      <p role="status" class="status">${this.notice}</p>
      ${this.error ? html`<p role="alert">${this.error}</p>` : nothing}
      ${this.items === null
        ? html`<p role="status">Loading bookings…</p>`
        : html`<div class="scroll" tabindex="0" role="region" aria-label="Bookings table"><table>
            <caption>Bookings</caption>
            <thead><tr><th scope="col">Start</th><th scope="col">Status</th><th scope="col">Title</th><th scope="col">Attendee</th><th scope="col">Booking</th></tr></thead>
            <tbody>
              ${this.items.length === 0 ? html`<tr><td colspan="5">No bookings.</td></tr>` : nothing}
              ${this.items.map(
                (b) => html`<tr>
                  <td>${fmtDate(b.startTime)}</td><td><span class="badge">${b.status}</span></td><td>${b.title ?? '—'}</td>
                  <td>${b.attendees?.[0]?.email ?? '—'}</td>
                  <td><button type="button" class="secondary" @click=${() => void this.open(b.uid)} aria-label="Open booking ${b.uid}">Open</button></td>
                </tr>`,
              )}
            </tbody></table></div>`}
      ${this.detail ? this.renderDetail(this.detail) : nothing}
    `;
  }

  private renderDetail(d: Record<string, unknown>) {
    const booking = d as unknown as Booking;
    const events = (d.events ?? []) as { id: string; trigger: string; occurredAt: string; status: string; source: string; current: boolean }[];
    return html`<div class="card" role="region" aria-labelledby="booking-detail-title">
      <h3 id="booking-detail-title" tabindex="-1">Booking ${booking.uid}</h3>
      <h4>Event history</h4>
      <ol class="history">${events.map((e) => html`<li>${fmtDate(e.occurredAt)}: <span class="mono">${e.trigger}</span> → ${e.status} (${e.source})${e.current ? ' — current' : ''}</li>`)}</ol>
      <h4>Raw deliveries</h4>
      <p>The signed deliveries Cal.com sent are in <a href="/admin/tenants/${this.tenant.slug}/webhook-deliveries">Webhook deliveries</a>; a person's raw deliveries, decoded, are in their export (Privacy › Subject requests).</p>
      <h4>Consent receipt</h4>
      <pre class="code" tabindex="0" aria-label="Consent receipt">${JSON.stringify(d.consent ?? null, null, 2)}</pre>
      <button type="button" class="secondary" @click=${() => (this.detail = null)}>Close booking</button>
    </div>`;
  }
}

customElements.define('cb-section-bookings', CbSectionBookings);
