import { html, nothing } from 'lit';
import { api, currentSession, tenantPath } from '../shared/api.js';
import { LightElement, field } from '../shared/base.js';
import type { Tenant } from '../pages/tenants-page.js';

interface Options {
  mode: string;
  event: string;
  theme: string;
  locale: string;
  name: string;
  email: string;
}

const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The exact snippet for the options chosen; empty options are left out. */
export function snippetFor(serverOrigin: string, slug: string, o: Options): string {
  const attrs = [`tenant="${attr(slug)}"`];
  if (o.mode && o.mode !== 'inline') attrs.push(`mode="${attr(o.mode)}"`);
  if (o.event) attrs.push(`event="${attr(o.event)}"`);
  if (o.theme && o.theme !== 'auto') attrs.push(`theme="${attr(o.theme)}"`);
  if (o.locale) attrs.push(`locale="${attr(o.locale)}"`);
  if (o.name) attrs.push(`name="${attr(o.name)}"`);
  if (o.email) attrs.push(`email="${attr(o.email)}"`);
  return `<script type="module" src="${serverOrigin}/widget.js"></script>\n<calbridge-booking ${attrs.join(' ')}></calbridge-booking>`;
}

function originOf(value: string): string | null {
  try {
    const u = new URL(value.trim());
    return /^https?:$/.test(u.protocol) ? u.origin : null;
  } catch {
    return null;
  }
}

let widgetLoaded: Promise<unknown> | null = null;

/** "Install": the snippet builder, its live preview, and how to paste it on each platform. */
export class CbSectionInstall extends LightElement {
  static override properties = { settingsStatus: { state: true }, tenant: { attribute: false }, page: { attribute: false }, options: { state: true }, siteUrl: { state: true }, copied: { state: true }, fixing: { state: true }, fixError: { state: true } };
  declare tenant: Tenant;
  declare page: { refresh(): Promise<void> };
  declare options: Options;
  declare siteUrl: string;
  declare copied: string;
  declare fixing: boolean;
  declare fixError: string | null;
  declare settingsStatus: string;

  constructor() {
    super();
    this.options = { mode: 'inline', event: '', theme: 'auto', locale: '', name: '', email: '' };
    this.siteUrl = '';
    this.copied = '';
    this.fixing = false;
    this.fixError = null;
    this.settingsStatus = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // The live preview is the real element, from this server.
    widgetLoaded ??= import(/* @vite-ignore */ `${location.origin}/widget.js`).catch(() => null);
  }

  private set(key: keyof Options, e: Event): void {
    this.options = { ...this.options, [key]: (e.target as HTMLInputElement | HTMLSelectElement).value };
  }

  private async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.copied = 'Snippet copied to the clipboard.';
    } catch {
      // No clipboard permission: select the code so Ctrl+C works.
      const code = this.querySelector('#snippet-code');
      if (code) getSelection()?.selectAllChildren(code);
      this.copied = 'Select and copy the snippet with Ctrl+C (the browser refused clipboard access).';
    }
  }

  private async addOrigin(origin: string): Promise<void> {
    this.fixing = true;
    this.fixError = null;
    try {
      await api('PATCH', tenantPath(this.tenant.slug), { allowedOrigins: [...this.tenant.allowedOrigins, origin] });
      await this.page.refresh();
    } catch (err) {
      this.fixError = (err as Error).message;
    } finally {
      this.fixing = false;
    }
  }

  private async saveSettings(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const modes = ['inline', 'popup', 'floating', 'native'].filter((m) => data.get(`mode-${m}`) === 'on');
    const theme = field(data, 'theme');
    const defaultEvent = field(data, 'defaultEvent').trim();
    const privacyPolicyUrl = field(data, 'privacyPolicyUrl').trim();
    try {
      await api('PATCH', tenantPath(this.tenant.slug), {
        widget: { theme: theme === 'auto' ? null : theme, modes: modes.length === 4 || modes.length === 0 ? null : modes, defaultEvent: defaultEvent || null, privacyPolicyUrl: privacyPolicyUrl || null },
      });
      this.settingsStatus = 'Widget settings saved.';
      await this.page.refresh();
    } catch (err) {
      this.settingsStatus = `Not saved: ${(err as Error).message}`;
    }
  }

  override render() {
    const t = this.tenant;
    const o = this.options;
    const w = t.widget as { theme?: string; modes?: string[]; defaultEvent?: string; privacyPolicyUrl?: string };
    const server = location.origin;
    const snippet = snippetFor(server, t.slug, o);
    const site = originOf(this.siteUrl);
    const calcom = currentSession()?.calcomOrigin ?? 'https://app.cal.com';
    const csp = `script-src ${server}; connect-src ${server}; frame-src ${calcom}`;
    return html`
      <div class="grid-2">
        <form class="card" aria-labelledby="builder-title" @submit=${(e: Event) => e.preventDefault()}>
          <h3 id="builder-title">Snippet builder</h3>
          <label for="opt-mode">Mode</label>
          <select id="opt-mode" @change=${(e: Event) => this.set('mode', e)}>
            ${['inline', 'popup', 'floating', 'native'].map((m) => html`<option value=${m} ?selected=${o.mode === m}>${m}</option>`)}
          </select>
          <label for="opt-event">Event</label>
          <input id="opt-event" .value=${o.event} placeholder=${(typeof t.widget.defaultEvent === 'string' ? t.widget.defaultEvent : undefined) ?? t.calLink?.split('/')[1] ?? 'intro-call'} @input=${(e: Event) => this.set('event', e)} autocomplete="off" />
          <label for="opt-theme">Theme</label>
          <select id="opt-theme" @change=${(e: Event) => this.set('theme', e)}>
            ${['auto', 'light', 'dark'].map((m) => html`<option value=${m} ?selected=${o.theme === m}>${m}</option>`)}
          </select>
          <label for="opt-locale">Locale</label>
          <input id="opt-locale" .value=${o.locale} placeholder="en" @input=${(e: Event) => this.set('locale', e)} autocomplete="off" />
          <fieldset>
            <legend>Prefill</legend>
            <label for="opt-name">Prefill name</label>
            <input id="opt-name" .value=${o.name} @input=${(e: Event) => this.set('name', e)} autocomplete="off" />
            <label for="opt-email">Prefill email</label>
            <input id="opt-email" type="email" .value=${o.email} @input=${(e: Event) => this.set('email', e)} autocomplete="off" />
          </fieldset>
          <label for="site-url">Your website's address</label>
          <p class="hint" id="site-hint">Where the snippet will go; it must be in "Allowed origins".</p>
          <input id="site-url" type="url" .value=${this.siteUrl} placeholder="https://www.example.com" aria-describedby="site-hint" @input=${(e: Event) => (this.siteUrl = (e.target as HTMLInputElement).value)} autocomplete="url" />
          ${site && !t.allowedOrigins.includes(site)
            ? html`<div class="warning" role="alert">
                <p><strong>${site}</strong> is not in "Allowed origins": the widget will not load there.</p>
                <button type="button" ?disabled=${this.fixing} @click=${() => void this.addOrigin(site)}>Add ${site} to Allowed origins</button>
                ${this.fixError ? html`<p class="error">${this.fixError}</p>` : nothing}
              </div>`
            : site
              ? html`<p class="ok" role="status">${site} is allowed.</p>`
              : nothing}
        </form>
        <div class="card">
          <h3 id="snippet-title">Snippet</h3>
          <pre class="code" tabindex="0" aria-labelledby="snippet-title"><code id="snippet-code">${snippet}</code></pre>
          <button type="button" @click=${() => void this.copy(snippet)}>Copy snippet</button>
          <p role="status" class="status">${this.copied}</p>
          <h3>Preview</h3>
          <div class="preview" role="group" aria-label="Widget preview">
            <calbridge-booking tenant=${t.slug} mode=${o.mode === 'native' ? 'native' : 'inline'} event=${o.event || nothing} theme=${o.theme} locale=${o.locale || nothing} name=${o.name || nothing} email=${o.email || nothing} server=${server}></calbridge-booking>
          </div>
        </div>
      </div>
      <form class="card" aria-labelledby="settings-title" @submit=${(e: SubmitEvent) => void this.saveSettings(e)}>
        <h3 id="settings-title">Widget settings</h3>
        <fieldset>
          <legend>Modes allowed on this tenant's pages</legend>
          ${['inline', 'popup', 'floating', 'native'].map(
            (m) => html`<div class="check"><input type="checkbox" id="allow-${m}" name="mode-${m}" ?checked=${!w.modes || w.modes.includes(m)} /><label for="allow-${m}">${m}</label></div>`,
          )}
        </fieldset>
        <label for="set-theme">Default theme</label>
        <select id="set-theme" name="theme">${['auto', 'light', 'dark'].map((m) => html`<option value=${m} ?selected=${(w.theme ?? 'auto') === m}>${m}</option>`)}</select>
        <label for="set-event">Default event</label>
        <input id="set-event" name="defaultEvent" .value=${w.defaultEvent ?? ''} autocomplete="off" />
        <label for="set-privacy">Privacy policy URL</label>
        <input id="set-privacy" name="privacyPolicyUrl" type="url" .value=${w.privacyPolicyUrl ?? ''} autocomplete="url" />
        <button type="submit">Save widget settings</button>
        <p role="status" class="status">${this.settingsStatus}</p>
      </form>
      <h3>Paste it into your site</h3>
      <div class="howto">
        <details><summary>WordPress</summary><p>Edit the page, add a <strong>Custom HTML</strong> block where the booking should appear, and paste the snippet. On WordPress.com this needs a plan that allows custom code.</p></details>
        <details><summary>Webflow</summary><p>Drag an <strong>Embed</strong> element (Add panel › Components › Code Embed) onto the page, paste the snippet, save, then publish the site.</p></details>
        <details><summary>Squarespace</summary><p>Edit the page, add a <strong>Code</strong> block, set it to HTML, and paste the snippet (code blocks need a Business plan or higher).</p></details>
        <details><summary>Wix</summary><p>Add › Embed Code › <strong>Embed HTML</strong>, choose "Code", paste the snippet. Wix puts it in an iframe on its own origin (<span class="mono">*.filesusr.com</span>): add that origin to "Allowed origins" as shown by the warning above.</p></details>
        <details><summary>Shopify</summary><p>Online Store › Themes › Customize, add a <strong>Custom Liquid</strong> section to the page, and paste the snippet.</p></details>
        <details><summary>Google Tag Manager</summary><p>New tag › <strong>Custom HTML</strong>, paste the snippet, trigger on the pages that should show it, and publish. The element is placed where the tag runs (the end of the body); the inline mode is best placed with a CMS block instead.</p></details>
        <details open><summary>Content-Security-Policy for strict sites</summary>
          <p>If the site sends a Content-Security-Policy, it must allow these (add to the existing directives):</p>
          <pre class="code" tabindex="0" aria-label="CSP lines"><code>${csp}</code></pre>
        </details>
      </div>
    `;
  }
}

customElements.define('cb-section-install', CbSectionInstall);
