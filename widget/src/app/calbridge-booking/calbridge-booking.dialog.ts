import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { css } from '../../shared/ui/css.js';
import type { Strings } from '../../shared/i18n/strings.js';
import { DialogController } from '../../shared/ui/dialog-controller.js';

// Popup and floating show only their button until used; the dialog (its markup, focus trap,
// focus return and styles) comes with the lazy chunk, which loads when the pointer or focus
// first reaches the button (or on `open()`), so widget.js stays small (decision 0026).
const styles = css`
  dialog {
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

type Host = ReactiveControllerHost & HTMLElement & { renderRoot: ParentNode };

/** The modal dialog of a popup or floating element; made on its first `open()`, its styles added to the element's shadow root then. */
export class BookingDialog extends DialogController {
  constructor(host: Host) {
    super(host);
    const root = host.shadowRoot;
    if (root && styles.styleSheet) root.adoptedStyleSheets = [...root.adoptedStyleSheets, styles.styleSheet];
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
