import { html, nothing } from 'lit';
import { api, ApiError, currentSession, tenantPath } from '../shared/api.js';
import { LightElement, fmtDate, field } from '../shared/base.js';
import type { Tenant } from '../pages/tenants-page.js';

interface Consent {
  version: string;
  text: string;
  purposes: { id: string; label: string; required: boolean }[];
}
interface Receipt {
  id: string;
  subjectRef: string;
  erasedAt: string;
  stores: Record<string, unknown>;
  calcom: { requested: boolean; status: string };
  crm: { eventsEmitted: number };
}

/** "Privacy": the consent wording with versions and a preview, retention, and "Subject requests" (find, "Export", "Erase"). */
export class CbSectionPrivacy extends LightElement {
  static override properties = {
    tenant: { attribute: false },
    page: { attribute: false },
    consentStatus: { state: true },
    retention: { state: true },
    retentionStatus: { state: true },
    email: { state: true },
    found: { state: true },
    subjectStatus: { state: true },
    receipt: { state: true },
    draft: { state: true },
  };
  declare tenant: Tenant;
  declare page: { refresh(): Promise<void> };
  declare consentStatus: string;
  declare retention: { policy: Record<string, number | boolean>; isDefault: boolean; lastRun: { ranAt: string } | null } | null;
  declare retentionStatus: string;
  declare email: string;
  declare found: { consentReceipts: number } | null;
  declare subjectStatus: string;
  declare receipt: Receipt | null;
  declare draft: Consent | null;

  constructor() {
    super();
    this.consentStatus = '';
    this.retention = null;
    this.retentionStatus = '';
    this.email = '';
    this.found = null;
    this.subjectStatus = '';
    this.receipt = null;
    this.draft = null;
  }

  private get manager(): boolean {
    const a = currentSession()?.access;
    return Boolean(a?.admin || a?.managed.includes(this.tenant.slug));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void api<CbSectionPrivacy['retention']>('GET', tenantPath(this.tenant.slug, '/retention')).then((r) => (this.retention = r)).catch((e: Error) => (this.retentionStatus = e.message));
    const c = this.tenant.widget.consent as Consent | undefined;
    this.draft = c ? structuredClone(c) : { version: '1', text: 'I agree that my booking details are stored to arrange this meeting.', purposes: [{ id: 'booking', label: 'Arrange this meeting', required: true }] };
  }

  private async saveConsent(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const purposes = field(data, 'purposes')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const [id, label, req] = l.split('|').map((x) => x.trim());
        return { id: id ?? '', label: label ?? id ?? '', required: req === 'required' };
      });
    const consent = { version: field(data, 'version').trim(), text: field(data, 'text').trim(), purposes };
    try {
      await api('PATCH', tenantPath(this.tenant.slug), { widget: { consent } });
      this.consentStatus = `Saved as version ${consent.version}.`;
      await this.page.refresh();
    } catch (err) {
      this.consentStatus =
        err instanceof ApiError && err.code === 'consent_version_unchanged' ? 'The text or purposes changed: give it a new version.' : `Not saved: ${(err as Error).message}`;
    }
  }

  private async saveRetention(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const patch = {
      rawDeliveryDays: Number(data.get('rawDeliveryDays')),
      bookingDays: Number(data.get('bookingDays')),
      consentReceiptDays: Number(data.get('consentReceiptDays')),
      cancelFutureBookingsOnErasure: data.get('cancelFutureBookingsOnErasure') === 'on',
    };
    try {
      this.retention = { ...this.retention!, ...(await api<{ policy: Record<string, number | boolean> }>('PUT', tenantPath(this.tenant.slug, '/retention'), patch)) };
      this.retentionStatus = 'Retention saved.';
    } catch (err) {
      this.retentionStatus = `Not saved: ${(err as Error).message}`;
    }
  }

  private subjectPath(rest = ''): string {
    return tenantPath(this.tenant.slug, `/subjects/${encodeURIComponent(this.email)}${rest}`);
  }

  private async find(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.email = field(new FormData(e.target as HTMLFormElement), 'email').trim();
    this.receipt = null;
    try {
      const consents = await api<{ data: unknown[] }>('GET', tenantPath(this.tenant.slug, `/consents?email=${encodeURIComponent(this.email)}`));
      this.found = { consentReceipts: consents.data.length };
      this.subjectStatus = `Found ${consents.data.length} consent receipt(s) for this person. Export shows everything held.`;
    } catch (err) {
      this.found = null;
      this.subjectStatus = (err as Error).message;
    }
  }

  private async exportSubject(): Promise<void> {
    try {
      const doc = await api('GET', this.subjectPath('/export'));
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `subject-export-${this.tenant.slug}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.subjectStatus = 'Export downloaded.';
    } catch (err) {
      this.subjectStatus = `Export failed: ${(err as Error).message}`;
    }
  }

  private openErase(): void {
    this.querySelector<HTMLDialogElement>('#erase-dialog')!.showModal();
  }

  private closeErase(): void {
    this.querySelector<HTMLDialogElement>('#erase-dialog')!.close();
    this.querySelector<HTMLElement>('#erase-button')?.focus();
  }

  private async erase(): Promise<void> {
    const cancel = this.querySelector<HTMLInputElement>('#erase-cancel-future')!.checked;
    try {
      this.receipt = await api<Receipt>('DELETE', this.subjectPath(`?cancelFutureBookings=${cancel}`));
      this.querySelector<HTMLDialogElement>('#erase-dialog')!.close();
      this.subjectStatus = 'Erased. The receipt is below.';
      await this.updateComplete;
      this.querySelector<HTMLElement>('#receipt-title')?.focus();
    } catch (err) {
      this.subjectStatus = `Not erased: ${(err as Error).message}`;
      this.closeErase();
    }
  }

  override render() {
    const d = this.draft;
    const r = this.retention;
    return html`
      ${d
        ? html`<div class="grid-2">
            <form class="card" aria-labelledby="consent-title" @submit=${(e: SubmitEvent) => void this.saveConsent(e)}>
              <h3 id="consent-title">Consent text</h3>
              <p class="hint" id="consent-hint">Changing the text or the purposes needs a new version: receipts keep the version and a hash of the text.</p>
              <label for="consent-version">Version</label>
              <input id="consent-version" name="version" .value=${d.version} required aria-describedby="consent-hint" autocomplete="off" />
              <label for="consent-text">Text</label>
              <textarea id="consent-text" name="text" rows="4" .value=${d.text} @input=${(e: Event) => (this.draft = { ...d, text: (e.target as HTMLTextAreaElement).value })}></textarea>
              <label for="consent-purposes">Purposes</label>
              <p class="hint" id="purposes-hint">One per line: id | label | required (or optional)</p>
              <textarea id="consent-purposes" name="purposes" rows="3" aria-describedby="purposes-hint" .value=${d.purposes.map((p) => `${p.id} | ${p.label} | ${p.required ? 'required' : 'optional'}`).join('\n')}></textarea>
              <button type="submit" ?disabled=${!this.manager}>Save consent text</button>
              <p role="status" class="status">${this.consentStatus}</p>
            </form>
            <div class="card" role="group" aria-labelledby="consent-preview-title">
              <h3 id="consent-preview-title">Consent step preview</h3>
              <div class="consent-preview">
                <p>${d.text}</p>
                <ul class="plain">${d.purposes.map((p) => html`<li>${p.required ? '✔ ' : '☐ '}${p.label}${p.required ? ' (required)' : ''}</li>`)}</ul>
              </div>
            </div>
          </div>`
        : nothing}
      <form class="card" aria-labelledby="retention-title" @submit=${(e: SubmitEvent) => void this.saveRetention(e)}>
        <h3 id="retention-title">Retention</h3>
        ${r
          ? html`<p>${r.isDefault ? 'The defaults apply.' : 'Set for this tenant.'} Last run: ${fmtDate(r.lastRun?.ranAt)}</p>
              <label for="ret-raw">Raw deliveries, days</label><input id="ret-raw" name="rawDeliveryDays" type="number" min="1" .value=${String(r.policy.rawDeliveryDays)} />
              <label for="ret-bookings">Bookings, days</label><input id="ret-bookings" name="bookingDays" type="number" min="1" .value=${String(r.policy.bookingDays)} />
              <label for="ret-consent">Consent receipts, days</label><input id="ret-consent" name="consentReceiptDays" type="number" min="1" .value=${String(r.policy.consentReceiptDays)} />
              <div class="check"><input id="ret-cancel" name="cancelFutureBookingsOnErasure" type="checkbox" ?checked=${Boolean(r.policy.cancelFutureBookingsOnErasure)} /><label for="ret-cancel">Cancel future bookings on erasure</label></div>
              <button type="submit" ?disabled=${!this.manager}>Save retention</button>`
          : html`<p role="status">Loading retention…</p>`}
        <p role="status" class="status">${this.retentionStatus}</p>
      </form>
      <div class="card" role="region" aria-labelledby="subjects-title">
        <h3 id="subjects-title">Subject requests</h3>
        <form class="inline-form" aria-label="Find a person" @submit=${(e: SubmitEvent) => void this.find(e)}>
          <label for="subject-email">Email of the person</label>
          <input id="subject-email" name="email" type="email" required autocomplete="off" />
          <button type="submit">Find</button>
        </form>
        <p role="status" class="status">${this.subjectStatus}</p>
        ${this.found
          ? html`<div class="actions">
              <button type="button" @click=${() => void this.exportSubject()}>Export</button>
              <button type="button" id="erase-button" class="danger" ?disabled=${!this.manager} @click=${() => this.openErase()}>Erase</button>
            </div>`
          : nothing}
        <dialog id="erase-dialog" aria-labelledby="erase-title" aria-describedby="erase-what" @cancel=${() => requestAnimationFrame(() => this.querySelector<HTMLElement>('#erase-button')?.focus())}>
          <h3 id="erase-title">Erase ${this.email}?</h3>
          <div id="erase-what">
            <p>This erases, in tenant <strong>${this.tenant.name}</strong>, everything held about <strong>${this.email}</strong>:</p>
            <ul>
              <li>their name, email and form answers on every booking (times and statuses stay),</li>
              <li>the raw webhook deliveries that name them,</li>
              <li>their consent receipts (kept, redacted, as evidence),</li>
              <li>their lead and its score, and their CRM contacts (destinations get <span class="mono">subject.erased</span>).</li>
            </ul>
            <p>It cannot be undone. A receipt without personal data is kept.</p>
          </div>
          <div class="check"><input id="erase-cancel-future" type="checkbox" /><label for="erase-cancel-future">Also cancel their future bookings in Cal.com</label></div>
          <div class="actions">
            <button type="button" class="danger" @click=${() => void this.erase()}>Erase</button>
            <button type="button" class="secondary" @click=${() => this.closeErase()}>Cancel</button>
          </div>
        </dialog>
        ${this.receipt
          ? html`<div class="receipt" role="region" aria-labelledby="receipt-title">
              <h4 id="receipt-title" tabindex="-1">Erasure receipt</h4>
              <dl>
                <dt>Receipt</dt><dd class="mono">${this.receipt.id}</dd>
                <dt>Erased at</dt><dd>${fmtDate(this.receipt.erasedAt)}</dd>
                <dt>Subject reference</dt><dd class="mono wrap">${this.receipt.subjectRef}</dd>
                <dt>Cal.com</dt><dd>${this.receipt.calcom.status}</dd>
                <dt>CRM events</dt><dd>${this.receipt.crm.eventsEmitted}</dd>
              </dl>
              <pre class="code" tabindex="0" aria-label="What was erased, per store">${JSON.stringify(this.receipt.stores, null, 2)}</pre>
            </div>`
          : nothing}
      </div>
    `;
  }
}

customElements.define('cb-section-privacy', CbSectionPrivacy);
