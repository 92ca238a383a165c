import { html, nothing } from 'lit';
import { api } from '../shared/api.js';
import { LightElement, field } from '../shared/base.js';

interface MadeToken {
  id: string;
  token: string;
  tenant: string | null;
  label: string | null;
}

/**
 * "Admin tokens" (administrators): mint a bearer token for scripts, for every tenant or one,
 * shown once; revoke one by its id. The API lists no tokens (only their hashes are stored).
 */
export class CbTokensPage extends LightElement {
  static override properties = { made: { state: true }, status: { state: true } };
  declare made: MadeToken[];
  declare status: string;

  constructor() {
    super();
    this.made = [];
    this.status = '';
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const tenant = field(data, 'tenant').trim();
    const label = field(data, 'label').trim();
    try {
      const t = await api<MadeToken>('POST', '/v1/admin/tokens', { ...(tenant ? { tenant } : {}), ...(label ? { label } : {}) });
      this.made = [t, ...this.made];
      this.status = 'Token made: copy it now, it is not shown again.';
    } catch (err) {
      this.status = `Not made: ${(err as Error).message}`;
    }
  }

  private async revoke(id: string): Promise<void> {
    try {
      await api('DELETE', `/v1/admin/tokens/${encodeURIComponent(id)}`);
      this.made = this.made.filter((t) => t.id !== id);
      this.status = `Token ${id} revoked.`;
    } catch (err) {
      this.status = `Not revoked: ${(err as Error).message}`;
    }
  }

  private async revokeById(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    await this.revoke(field(new FormData(e.target as HTMLFormElement), 'id').trim());
  }

  override render() {
    return html`
      <h1 tabindex="-1">Admin tokens</h1>
      <p role="status" class="status">${this.status}</p>
      <form class="card" aria-labelledby="new-token-title" @submit=${(e: SubmitEvent) => void this.create(e)}>
        <h2 id="new-token-title">New admin token</h2>
        <label for="token-label">Label</label>
        <input id="token-label" name="label" autocomplete="off" />
        <label for="token-tenant">Tenant (slug; empty: every tenant)</label>
        <input id="token-tenant" name="tenant" autocomplete="off" />
        <button type="submit">Make token</button>
      </form>
      ${this.made.length
        ? html`<ul class="plain">
            ${this.made.map(
              (t) => html`<li><span>${t.label ?? 'token'} (${t.tenant ?? 'every tenant'}):</span> <code class="mono secret">${t.token}</code>
                <button type="button" class="secondary" aria-label="Revoke ${t.label ?? t.id}" @click=${() => void this.revoke(t.id)}>Revoke</button></li>`,
            )}
          </ul>`
        : nothing}
      <form class="inline-form" aria-label="Revoke a token by id" @submit=${(e: SubmitEvent) => void this.revokeById(e)}>
        <label for="revoke-id">Token id</label>
        <input id="revoke-id" name="id" required autocomplete="off" />
        <button type="submit">Revoke token</button>
      </form>
    `;
  }
}

customElements.define('cb-tokens-page', CbTokensPage);
