import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { deepActiveElement, focusables } from './focus.js';

/**
 * A modal `<dialog>` in the host's shadow root: whether it is open, a focus trap while it is,
 * and focus given back to where it was when it closes. The host renders `guard(true)` first
 * and `guard(false)` last inside the dialog and calls `closed()` from its `close` event.
 */
export class DialogController implements ReactiveController {
  /** The dialog is open (the host renders its content only then). */
  opened = false;
  #returnTo: HTMLElement | null = null;
  #host: ReactiveControllerHost & { renderRoot: ParentNode };

  constructor(host: ReactiveControllerHost & { renderRoot: ParentNode }) {
    (this.#host = host).addController(this);
  }

  get dialog(): HTMLDialogElement | null {
    return this.#host.renderRoot.querySelector('dialog');
  }

  /**
   * Opens the dialog modally, remembering the focused element: true, or false when there is no
   * dialog or it was open already. Synchronous, so a click's own task does all of it: `render`
   * (the host's `performUpdate`) puts the content into the dialog while it is still closed, so
   * showing it lays the whole dialog out once, not once empty and again with its content.
   */
  open(render: () => void = () => {}): boolean {
    const dialog = this.dialog;
    if (!dialog || dialog.open) return false;
    this.#returnTo = deepActiveElement();
    this.opened = true;
    this.#host.requestUpdate();
    render();
    dialog.showModal();
    return true;
  }

  /** The dialog's `close` event: focus goes back to where it was before `open()`. */
  closed(): void {
    this.#returnTo?.focus();
    this.#returnTo = null;
  }

  /** A focusable guard at one end of the dialog: focus reaching it goes round to the other end. */
  guard(toLast: boolean): TemplateResult {
    return html`<div
      tabindex="0"
      @focus=${() => {
        const list = this.dialog ? focusables(this.dialog) : [];
        list[toLast ? list.length - 1 : 0]?.focus();
      }}
    ></div>`;
  }

  hostDisconnected(): void {
    // A dialog removed from the page leaves the top layer without a `close` event.
    this.opened = false;
    this.#returnTo = null;
  }
}
