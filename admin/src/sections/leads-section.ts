import { html, nothing } from 'lit';
import { api, tenantPath } from '../shared/api.js';
import { fmtDate } from '../shared/base.js';
import { LiveList } from '../shared/live-list.js';

interface Lead {
  id: string;
  email: string;
  name: string | null;
  score: number;
  grade: string | null;
  explanation: { ruleId: string; description: string | null; points: number; count: number; total: number }[];
  bookingCount: number;
  updatedAt: string;
}

/** "Leads": ranked by score, each score explained; the lead rules, editable (a new version rescores every lead). */
export class CbSectionLeads extends LiveList<Lead> {
  protected readonly topics = ['leads', 'bookings'];
  static override properties = { ...LiveList.properties, rules: { state: true }, rulesStatus: { state: true }, preview: { state: true } };
  declare rules: string | null;
  declare rulesStatus: string;
  declare preview: { id: string; email: string; before: { score: number; grade: string | null }; after: { score: number; grade: string | null } }[] | null;

  protected async fetchItems(): Promise<Lead[]> {
    if (this.rules === undefined || this.rules === null) void this.loadRules();
    return (await api<{ data: Lead[] }>('GET', tenantPath(this.tenant.slug, '/leads?sort=-score&limit=50'))).data;
  }

  private async loadRules(): Promise<void> {
    const r = await api<Record<string, unknown>>('GET', tenantPath(this.tenant.slug, '/lead-rules'));
    const { version, isDefault, createdAt, ...rules } = r;
    void version; void isDefault; void createdAt;
    this.rules = JSON.stringify(rules, null, 2);
    this.rulesStatus = `Version ${String(r.version)}${r.isDefault ? ' (the default set)' : ''}`;
  }

  private async previewRules(): Promise<void> {
    const text = this.querySelector<HTMLTextAreaElement>('#lead-rules')!.value;
    try {
      this.preview = (await api<{ data: NonNullable<CbSectionLeads['preview']> }>('POST', tenantPath(this.tenant.slug, '/lead-rules/preview'), JSON.parse(text))).data;
      this.rulesStatus = `Preview: ${this.preview.filter((p) => p.before.score !== p.after.score).length} of ${this.preview.length} leads would change.`;
    } catch (err) {
      this.preview = null;
      this.rulesStatus = `No preview: ${(err as Error).message}`;
    }
  }

  private async saveRules(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const text = this.querySelector<HTMLTextAreaElement>('#lead-rules')!.value;
    try {
      const saved = await api<{ version: number }>('PUT', tenantPath(this.tenant.slug, '/lead-rules'), JSON.parse(text));
      this.rulesStatus = `Saved as version ${saved.version}; every lead is being rescored.`;
    } catch (err) {
      this.rulesStatus = `Not saved: ${(err as Error).message}`;
    }
  }

  override render() {
    return html`
      <p role="status" class="status">${this.notice}</p>
      ${this.error ? html`<p role="alert">${this.error}</p>` : nothing}
      ${this.items === null
        ? html`<p role="status">Loading leads…</p>`
        : html`<div class="scroll" tabindex="0" role="region" aria-label="Leads table"><table>
            <caption>Leads, highest score first</caption>
            <thead><tr><th scope="col">Score</th><th scope="col">Grade</th><th scope="col">Person</th><th scope="col">Bookings</th><th scope="col">Why</th><th scope="col">Updated</th></tr></thead>
            <tbody>
              ${this.items.length === 0 ? html`<tr><td colspan="6">No leads yet.</td></tr>` : nothing}
              ${this.items.map(
                (l) => html`<tr>
                  <td>${l.score}</td><td>${l.grade ?? '—'}</td><td>${l.name ?? ''} <span class="mono">${l.email}</span></td><td>${l.bookingCount}</td>
                  <td><ul class="explain">${l.explanation.map((x) => html`<li>${x.description ?? x.ruleId}: ${x.points} × ${x.count} = ${x.total}</li>`)}</ul></td>
                  <td>${fmtDate(l.updatedAt)}</td>
                </tr>`,
              )}
            </tbody></table></div>`}
      <form class="card" aria-labelledby="rules-title" @submit=${(e: SubmitEvent) => void this.saveRules(e)}>
        <h3 id="rules-title">Lead rules</h3>
        <p role="status" class="status">${this.rulesStatus ?? ''}</p>
        <label for="lead-rules">Rules (JSON)</label>
        <textarea id="lead-rules" rows="12" class="mono" .value=${this.rules ?? ''} spellcheck="false"></textarea>
        <div class="actions">
          <button type="button" class="secondary" @click=${() => void this.previewRules()}>Preview rescoring</button>
          <button type="submit">Save rules</button>
        </div>
        ${this.preview
          ? html`<div class="scroll" tabindex="0" role="region" aria-label="Rescoring preview table"><table>
              <caption>How current leads would rescore</caption>
              <thead><tr><th scope="col">Person</th><th scope="col">Now</th><th scope="col">With these rules</th></tr></thead>
              <tbody>${this.preview.map(
                (p) => html`<tr><td class="mono">${p.email}</td><td>${p.before.score} ${p.before.grade ?? ''}</td><td>${p.after.score} ${p.after.grade ?? ''}${p.after.score !== p.before.score ? html` <span class="badge">${p.after.score > p.before.score ? '▲' : '▼'} ${p.after.score - p.before.score}</span>` : nothing}</td></tr>`,
              )}</tbody></table></div>`
          : nothing}
      </form>
    `;
  }
}

customElements.define('cb-section-leads', CbSectionLeads);
