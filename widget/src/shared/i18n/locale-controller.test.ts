import { expect, fixture, fixtureCleanup, html, waitUntil } from '@open-wc/testing';
import { LitElement } from 'lit';
import { LocaleController } from './locale-controller.js';

const en = { hello: 'Hello' };
type S = typeof en;
const table: Record<string, S> = { de: { hello: 'Hallo' }, fr: { hello: 'Bonjour' } };

/** Answers German at once and French only when released: a locale chunk still loading. */
let releaseFrench: () => void = () => {};
const load = (locale: string): S | Promise<S> =>
  locale.startsWith('fr') ? new Promise((r) => (releaseFrench = () => r(table.fr!))) : (table[locale.split('-')[0]!] ?? en);

class LocaleHost extends LitElement {
  static override properties = { locale: {} };
  declare locale: string | undefined;
  i18n = new LocaleController<S>(this, load, en);
  override render() {
    return html`<p>${this.i18n.t.hello}</p>`;
  }
}
customElements.define('test-locale-host', LocaleHost);

const text = (el: LocaleHost) => el.shadowRoot!.querySelector('p')!.textContent;

describe('LocaleController', () => {
  afterEach(() => fixtureCleanup());

  it('should use the locale property first and answer at once when the strings are at hand', async () => {
    const el = await fixture<LocaleHost>(html`<test-locale-host locale="de-AT"></test-locale-host>`);
    expect([el.i18n.locale, text(el)]).to.deep.equal(['de-AT', 'Hallo']);
  });

  it('should read the nearest lang, and follow the host when it moves under another lang', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div><div lang="de"><test-locale-host></test-locale-host></div><div lang="en-GB"></div></div>`);
    const el = wrapper.querySelector<LocaleHost>('test-locale-host')!;
    await el.updateComplete;
    expect(text(el)).to.equal('Hallo');
    wrapper.querySelector('[lang="en-GB"]')!.append(el);
    await waitUntil(() => text(el) === 'Hello', 'strings did not follow the new lang');
    expect(el.i18n.locale).to.equal('en-GB');
  });

  it('should show the fallback until a loading locale answers, and drop an answer no longer wanted', async () => {
    const el = await fixture<LocaleHost>(html`<test-locale-host locale="fr"></test-locale-host>`);
    expect(text(el)).to.equal('Hello');
    releaseFrench();
    await waitUntil(() => text(el) === 'Bonjour', 'French never applied');

    el.locale = 'fr-CA';
    await el.updateComplete;
    const late = releaseFrench;
    el.locale = 'de';
    await el.updateComplete;
    late();
    // The French answer arrives after German was chosen: German stays.
    await Promise.resolve();
    await el.updateComplete;
    expect(text(el)).to.equal('Hallo');
  });
});
