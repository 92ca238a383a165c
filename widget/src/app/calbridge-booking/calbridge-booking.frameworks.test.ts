// <calbridge-booking> inside real React 19 and Vue 3 apps (the frameworks' own packages): props
// and attributes reach it, its events reach the framework's handlers, conditional rendering
// mounts and unmounts it cleanly, and it stays accessible.
import { expect, fixture, fixtureCleanup, html, oneEvent, waitUntil } from '@open-wc/testing';
import 'axe-core/axe.min.js';
import type { AxeResults, RunOptions } from 'axe-core';
import { createApp, h, ref } from 'vue/dist/vue.esm-browser.prod.js';
import './calbridge-booking.js';
import type { CalbridgeBooking } from './calbridge-booking.element.js';

declare global {
  interface Window {
    axe: { run(context: Element, options: RunOptions): Promise<AxeResults> };
  }
}

interface ReactLib {
  React: { createElement: (type: unknown, props?: Record<string, unknown> | null, ...children: unknown[]) => unknown };
  createRoot: (el: Element) => { render: (node: unknown) => void; unmount: () => void };
  flushSync: (fn: () => void) => void;
}
// Bundled from the real react and react-dom packages by the test server (test/frameworks.mjs).
const loadReact = async (): Promise<ReactLib> => (await import(/* @vite-ignore */ `${location.origin}/__frameworks/react.js`)) as ReactLib;

const $ = <T extends Element = HTMLElement>(el: Element, sel: string) => el.shadowRoot!.querySelector<T>(sel);

async function expectAccessible(el: Element): Promise<void> {
  for (const a of el.shadowRoot!.getAnimations()) a.finish();
  const r = await window.axe.run(el, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
  expect(r.violations.map((v) => v.id)).to.deep.equal([]);
}

describe('<calbridge-booking> in frameworks', () => {
  afterEach(() => fixtureCleanup());

  it('should work in a React 19 app: attributes, event props, grantConsent through a ref, unmount', async () => {
    const { React, createRoot, flushSync } = await loadReact();
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const root = createRoot(host);
    const consents: string[] = [];
    let el: CalbridgeBooking | null = null;
    const app = (show: boolean, mode: string) =>
      show
        ? React.createElement('calbridge-booking', {
            tenant: 'demo',
            mode,
            name: 'Ada Lovelace',
            // React 19 adds `on<event-name>` props of custom elements as event listeners.
            'oncalbridge-consent': (e: CustomEvent<{ source: string }>) => consents.push(e.detail.source),
            ref: (node: CalbridgeBooking | null) => {
              el = node;
            },
          })
        : null;
    flushSync(() => root.render(app(true, 'inline')));
    await waitUntil(() => el && $(el, 'form'), 'no consent form', { timeout: 5000 });
    expect(el!.tenant).to.equal('demo');
    await expectAccessible(el!);
    el!.grantConsent({ purposes: ['booking'] });
    await waitUntil(() => consents.length === 1, 'React handler did not get calbridge-consent', { timeout: 5000 });
    expect(consents).to.deep.equal(['api']);
    await waitUntil(() => $(el!, 'iframe'), 'no frame', { timeout: 5000 });
    expect(new URL($<HTMLIFrameElement>(el!, 'iframe')!.src).searchParams.get('name')).to.equal('Ada Lovelace');

    // A re-render with another mode updates the same element; unmounting removes it and its frame.
    const kept = el!;
    flushSync(() => root.render(app(true, 'popup')));
    expect(el).to.equal(kept);
    await waitUntil(() => $(kept, 'button[part=trigger]'), 'no popup trigger', { timeout: 5000 });
    flushSync(() => root.render(app(false, 'popup')));
    expect(host.querySelector('calbridge-booking')).to.equal(null);
    expect(kept.isConnected).to.equal(false);
    root.unmount();
  });

  it('should work in a Vue 3 app: bound attributes, @event listeners, v-if mount and unmount', async () => {
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const show = ref(true);
    const tenant = ref('demo');
    const consents: string[] = [];
    const app = createApp({
      setup: () => () =>
        show.value
          ? h('calbridge-booking', {
              tenant: tenant.value,
              mode: 'inline',
              email: 'ada@example.com',
              onCalbridgeConsent: (e: CustomEvent<{ source: string }>) => consents.push(e.detail.source),
            })
          : null,
    });
    app.config.compilerOptions.isCustomElement = (tag: string) => tag.startsWith('calbridge-');
    app.mount(host);
    const el = host.querySelector('calbridge-booking')!;
    await waitUntil(() => $(el, 'form button'), 'no consent form', { timeout: 5000 });
    await expectAccessible(el);
    const consent = oneEvent(el, 'calbridge-consent');
    $(el, 'form button')!.click();
    await consent;
    expect(consents).to.deep.equal(['widget']);
    await waitUntil(() => $(el, 'iframe'), 'no frame', { timeout: 5000 });
    expect(new URL($<HTMLIFrameElement>(el, 'iframe')!.src).searchParams.get('email')).to.equal('ada@example.com');
    show.value = false;
    await waitUntil(() => !host.querySelector('calbridge-booking'), 'v-if did not remove it');
    expect(el.isConnected).to.equal(false);
    app.unmount();
  });
});
