import { expect, fixture, fixtureCleanup, html, waitUntil } from '@open-wc/testing';
import { LitElement } from 'lit';
import { ViewportController } from './viewport-controller.js';

/** A throwaway host that renders whether it is near the viewport. */
class NearHost extends LitElement {
  near = new ViewportController(this);
  override render() {
    return html`<p>${this.near.near ? 'near' : 'far'}</p>`;
  }
}
customElements.define('test-near-host', NearHost);

const text = (el: NearHost) => el.shadowRoot!.querySelector('p')!.textContent;

describe('ViewportController', () => {
  afterEach(() => {
    fixtureCleanup();
    window.scrollTo(0, 0);
  });

  it('should say near only once the host comes within 200px of the viewport', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div><div style="height: 4000px"></div><test-near-host></test-near-host></div>`);
    const el = wrapper.querySelector<NearHost>('test-near-host')!;
    await el.updateComplete;
    // Far below the fold: an observer's first answer (not a wait) says it is not intersecting.
    await new Promise<void>((resolve) => {
      const io = new IntersectionObserver(() => {
        io.disconnect();
        resolve();
      });
      io.observe(el);
    });
    expect([el.near.near, text(el)]).to.deep.equal([false, 'far']);
    el.scrollIntoView();
    await waitUntil(() => text(el) === 'near', 'host never became near');
  });

  it('should start over when the host is removed and added again', async () => {
    const el = await fixture<NearHost>(html`<test-near-host></test-near-host>`);
    await waitUntil(() => el.near.near, 'host in view never became near');
    const parent = el.parentElement!;
    el.remove();
    expect(el.near.near).to.equal(false);
    parent.append(el);
    await waitUntil(() => el.near.near, 'host added again never became near');
  });
});
