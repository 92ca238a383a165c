import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { css } from '../../shared/ui/css.js';
import type { Strings } from '../../shared/i18n/strings.js';
import { emit } from '../../shared/events/emit.js';
import { adopt } from '../../shared/ui/adopt.js';
import { DialogController } from '../../shared/ui/dialog-controller.js';

// Popup and floating show only their button until used; the dialog (its markup, focus trap,
// focus return and styles) comes with the lazy chunk, which loads when the pointer or focus
// first reaches the button (or on `open()`), so widget.js stays small (decision 0026).
const styles = css`
  dialog {
    background: var(--b);
    color: inherit;
    border-radius: var(--r);
    width: min(56rem, 100vw - 2rem);
    max-height: calc(100dvh - 2rem);
    padding: 0;
    border: 0;
  }
  dialog[open] {
    animation: in 0.2s;
  }
  @keyframes in {
    from {
      opacity: 0;
    }
  }
  header {
    display: flex;
    justify-content: space-between;
    align-items: center;
    padding-inline-start: 1rem;
  }
  .close {
    width: 44px;
    height: 44px;
    border: 0;
    background: none;
    color: inherit;
  }
  @media (prefers-reduced-motion: reduce) {
    dialog[open] {
      animation: none;
    }
  }
`;

type Host = ReactiveControllerHost & HTMLElement & { renderRoot: ParentNode; readonly isUpdatePending: boolean };

/** The modal dialog of a popup or floating element; made on its first `open()`, its styles added to the element's shadow root then. */
export class BookingDialog extends DialogController {
  #el: Host;

  constructor(host: Host) {
    super(host);
    this.#el = host;
    adopt(host, styles);
  }

  /**
   * The element's `open()` once this chunk is here (it was the element's body; decision 0032).
   * With no update pending, no await: the launcher click's own task renders the content into
   * the closed dialog (`render`, the element's `performUpdate`), opens it (one style and layout
   * pass for the whole dialog) and focuses it, so its first paint is the very next frame.
   */
  async show(render: () => void): Promise<void> {
    const host = this.#el;
    if (host.isUpdatePending) await host.updateComplete;
    if (!this.open(render)) return;
    this.dialog?.querySelector<HTMLElement>('.close')?.focus();
    // Announced after the caller's code, as before: a listener added right after open() still hears it.
    await Promise.resolve();
    emit(host, 'calbridge-open', {});
  }

  /** The `<dialog>`: its title, close button, the element's panel while open, and focus guards at both ends. */
  render(t: Strings, panel: () => TemplateResult, onClose: () => void, close: () => void): TemplateResult {
    return html`<dialog part="dialog" aria-labelledby="title" @close=${onClose}>
      ${this.guard(true)}
      <header>
        <h2 id="title">${t.book}</h2>
        <button part="close-button" class="close" aria-label=${t.close} @click=${close}>✕</button>
      </header>
      ${this.opened ? panel() : nothing}
      ${this.guard(false)}
    </dialog>`;
  }
}
