import { LitElement } from 'lit';

/**
 * Console elements render into the light DOM: one stylesheet (styles.css, served
 * from our origin, so the CSP needs no 'unsafe-inline'), and labels, headings and
 * landmarks that assistive technology and tests find by their names.
 */
export class LightElement extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }
}

export const fmtDate = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—');

/** Moves focus to an element after render (headings get tabindex=-1 so a page change is announced). */
export function focusLater(root: HTMLElement, selector: string): void {
  requestAnimationFrame(() => root.querySelector<HTMLElement>(selector)?.focus());
}

/** A form field's text ('' when absent or a file). */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v : '';
}
