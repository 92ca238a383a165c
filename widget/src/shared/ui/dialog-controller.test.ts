import { expect, fixture, fixtureCleanup, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import 'axe-core/axe.min.js';
import type { AxeResults, RunOptions } from 'axe-core';
import { LitElement, nothing } from 'lit';
import { DialogController } from './dialog-controller.js';
import { deepActiveElement } from './focus.js';

declare global {
  interface Window {
    axe: { run(context: Element, options: RunOptions): Promise<AxeResults> };
  }
}

/** A throwaway host with a trigger and a modal dialog, rendered the way <calbridge-booking> does. */
class DialogHost extends LitElement {
  modal = new DialogController(this);
  override render() {
    return html`<button class="trigger" @click=${() => this.modal.open(() => this.performUpdate())}>Open</button>
      <dialog aria-labelledby="t" @close=${() => this.modal.closed()}>
        ${this.modal.guard(true)}
        <h2 id="t">Title</h2>
        ${this.modal.opened ? html`<button class="first">First</button><a href="#x">Middle</a><button class="last">Last</button>` : nothing}
        ${this.modal.guard(false)}
      </dialog>`;
  }
}
customElements.define('test-dialog-host', DialogHost);

const $ = (el: DialogHost, sel: string) => el.shadowRoot!.querySelector<HTMLElement>(sel)!;

describe('DialogController', () => {
  afterEach(() => fixtureCleanup());

  it('should open modally, keep Tab and Shift+Tab inside, and give focus back on Escape', async () => {
    const el = await fixture<DialogHost>(html`<test-dialog-host></test-dialog-host>`);
    const trigger = $(el, '.trigger');
    trigger.focus();
    // Everything happens in the click's task: open, modal, its content rendered.
    let inClick: unknown[] = [];
    trigger.addEventListener('click', () => (inClick = [el.modal.opened, el.shadowRoot!.querySelector('dialog')!.matches(':modal'), !!el.shadowRoot!.querySelector('dialog .first')]));
    await sendKeys({ press: 'Enter' });
    expect(inClick).to.deep.equal([true, true, true]);
    const dialog = el.shadowRoot!.querySelector('dialog')!;
    expect([el.modal.opened, dialog.matches(':modal')]).to.deep.equal([true, true]);
    $(el, '.last').focus();
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()).to.equal($(el, '.first'));
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    expect(deepActiveElement()).to.equal($(el, '.last'));
    const r = await window.axe.run(el, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    expect(r.violations.map((v) => v.id)).to.deep.equal([]);

    const closed = oneEvent(dialog, 'close');
    await sendKeys({ press: 'Escape' });
    await closed;
    expect(deepActiveElement()).to.equal(trigger);
  });

  it('should not open twice, and forget the open dialog when the host is removed', async () => {
    const el = await fixture<DialogHost>(html`<test-dialog-host></test-dialog-host>`);
    expect(el.modal.open()).to.equal(true);
    expect(el.modal.open()).to.equal(false);
    el.remove();
    expect(el.modal.opened).to.equal(false);
  });
});
